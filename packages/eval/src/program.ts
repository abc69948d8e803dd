import { Program } from './sandbox';
import { BenchTask, Language } from './types';

/**
 * HumanEval-X's JS tests use console.assert, which only logs in Node: make a failed assertion throw
 * so the process exits non-zero. One line, so stack traces stay one line off at most.
 */
export const JS_ASSERT_PRELUDE =
  "console.assert = (ok, ...msg) => { if (!ok) throw new Error('Assertion failed' + (msg.length ? ': ' + msg.join(' ') : '')); };\n";

let ts: typeof import('typescript') | undefined;

/** TypeScript to CommonJS, syntax only: no type-check (the MBXP reference rates assume the same). */
export function transpileTypeScript(source: string): { js: string; diagnostics: string[] } {
  ts ??= require('typescript') as typeof import('typescript');
  const out = ts.transpileModule(source, {
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true },
  });
  const diagnostics = (out.diagnostics ?? []).map((d) => ts!.flattenDiagnosticMessageText(d.messageText, '\n'));
  return { js: out.outputText, diagnostics };
}

/** Python test harness: the test defines check(candidate); call it unless the test already does. */
function pythonProgram(code: string, test: string, entryPoint: string | null): string {
  const callsCheck = /^check\(/m.test(test);
  const call = entryPoint && !callsCheck ? `\ncheck(${entryPoint})\n` : '\n';
  return `${code}\n\n${test}\n${call}`;
}

/** The program that tests `code` (a whole program: prompt + completion, or an edited program). */
export function programFor(language: Language, code: string, test: string, entryPoint: string | null): Program {
  switch (language) {
    case 'python':
      return { runtime: 'python', source: pythonProgram(code, test, entryPoint) };
    case 'javascript':
      return { runtime: 'node', source: `${JS_ASSERT_PRELUDE}${code}\n${test}\n` };
    case 'typescript':
      return { runtime: 'node', source: JS_ASSERT_PRELUDE + transpileTypeScript(`${code}\n${test}\n`).js };
    default:
      throw new Error(`programFor: unsupported language ${JSON.stringify(language)}`);
  }
}

/** The program that tests a completion of a benchmark task's prompt. */
export function completionProgram(task: BenchTask, completion: string): Program {
  return programFor(task.language, task.prompt + completion, task.test, task.entryPoint);
}
