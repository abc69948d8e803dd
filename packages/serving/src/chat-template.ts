// Chat prompts: the model's own chat template (Hugging Face's tokenizer_config.json `chat_template`
// or a chat_template.jinja file, rendered with @huggingface/jinja) when the model has one; otherwise
// the plain fallback below, documented in the README, with its turn marker as an implicit stop.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { Template as JinjaTemplate } from '@huggingface/jinja' with { 'resolution-mode': 'require' };

// The package is ESM-typed but ships a CommonJS build, which `require` picks.
const { Template } = require('@huggingface/jinja') as { Template: typeof JinjaTemplate };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'developer' | 'tool';
  content: string;
}

export interface ChatFormat {
  /** 'template' (the model's) or 'fallback' (ours). */
  kind: 'template' | 'fallback';
  render(messages: ChatMessage[]): string;
  /** Stop strings every chat request gets (the fallback's next-turn marker). */
  stops: string[];
}

/**
 * The fallback for models without a template:
 *
 *     {system or developer content}\n\n          (each such message, if any)
 *     ### User:\n{content}\n\n
 *     ### Assistant:\n{content}\n\n
 *     ...
 *     ### Assistant:\n                        (the generation prompt)
 *
 * Generation stops at "\n### " (the start of a next turn), which is cut from the reply.
 */
export const FALLBACK_TURN = '\n### ';

export const fallbackFormat: ChatFormat = {
  kind: 'fallback',
  stops: [FALLBACK_TURN],
  render(messages) {
    let out = '';
    for (const m of messages) {
      if (m.role === 'system' || m.role === 'developer') out += `${m.content}\n\n`;
      else out += `### ${m.role === 'user' ? 'User' : m.role === 'tool' ? 'Tool' : 'Assistant'}:\n${m.content}\n\n`;
    }
    return `${out}### Assistant:\n`;
  },
};

/** Reads the model folder's chat template, if any (the folder is server configuration, never a request field). */
export function loadChatFormat(modelDir: string, special: { bos?: string; eos?: string }): ChatFormat {
  let source: string | null = null;
  const jinjaFile = path.join(modelDir, 'chat_template.jinja');
  const cfgFile = path.join(modelDir, 'tokenizer_config.json');
  if (existsSync(jinjaFile)) source = readFileSync(jinjaFile, 'utf8');
  else if (existsSync(cfgFile)) {
    let cfg: { chat_template?: unknown };
    try {
      cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
    } catch (e) {
      throw new Error(`${cfgFile}: not valid JSON (${(e as Error).message})`, { cause: e });
    }
    const t = cfg.chat_template;
    if (typeof t === 'string') source = t;
    else if (Array.isArray(t)) {
      // The list form: [{ name: 'default', template }, ...]
      const d = t.find((x) => x && x.name === 'default') ?? t[0];
      if (d && typeof d.template === 'string') source = d.template;
    }
  }
  if (source === null) return fallbackFormat;
  let template: JinjaTemplate;
  try {
    template = new Template(source);
  } catch (e) {
    throw new Error(`${modelDir}: its chat template does not parse: ${(e as Error).message}`, { cause: e });
  }
  return {
    kind: 'template',
    stops: [],
    render: (messages) =>
      template.render({
        messages,
        add_generation_prompt: true,
        bos_token: special.bos ?? '',
        eos_token: special.eos ?? '',
      }),
  };
}
