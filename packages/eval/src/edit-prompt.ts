// What a model is shown for an editing task, and how its answer becomes the program that is tested.
//
// In place: the instruction is a comment in front of the program (read as context, never part of the
// answer) and the model rewrites tokens of the program itself.
// Regenerate: the model reads the program, then the instruction as a comment, then the head of the
// function to fix (HumanEvalFix's layout: buggy code, instruction, the declaration to continue), and
// writes the function's body: added and removed logic can be scored. Without a head (CanItEdit, whose
// edits may touch any part of a file) it writes the whole program.
import type { EditTask } from './edit-task';
import { completionStop } from './model-generator';
import type { Language } from './types';

export type EditMode = 'in-place' | 'regenerate';
export const EDIT_MODES: readonly EditMode[] = ['in-place', 'regenerate'];

/** What an editing generator gets besides the prompt text. */
export interface EditRequest {
  mode: EditMode;
  language: Language;
  instruction: string;
  /** The program to edit. */
  program: string;
  /** In place: the context in front of the program (the instruction comment). */
  context: string;
  /** Regenerate: the head the model continues ('' = the whole program). */
  head: string;
}

/** The instruction as comment lines of the task's language. */
export function instructionComment(instruction: string, language: Language): string {
  const mark = language === 'python' ? '#' : '//';
  return `${instruction
    .trim()
    .split('\n')
    .map((l) => (l.trim() ? `${mark} ${l.trimEnd()}` : mark))
    .join('\n')}\n`;
}

export function editRequest(task: EditTask, mode: EditMode): EditRequest {
  return {
    mode,
    language: task.language,
    instruction: task.instruction,
    program: task.before,
    context: instructionComment(task.instruction, task.language),
    head: task.head,
  };
}

/** The full text a model reads for the request (in place: context + program; regenerate: the prompt). */
export function editPromptText(r: EditRequest): string {
  if (r.mode === 'in-place') return r.context + r.program;
  return `${r.program.trimEnd()}\n\n\n${instructionComment(r.instruction, r.language)}${r.head}`;
}

/**
 * The program a regenerated answer makes: the head, the model's text, and whatever followed the
 * rewritten function in the original program. `text` is the model's continuation of the head, cut at
 * the function's end (or the whole program when there is no head).
 */
export function assembleRegenerated(r: EditRequest, text: string): string {
  if (!r.head) return text;
  const body = r.program.slice(r.head.length);
  const cut = r.program.startsWith(r.head) ? completionStop(body, r.language) : -1;
  const rest = cut >= 0 ? body.slice(cut) : '\n';
  return r.head + text + (text.endsWith('\n') || rest.startsWith('\n') ? '' : '\n') + rest;
}
