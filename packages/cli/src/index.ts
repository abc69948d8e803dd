import { Command } from 'commander';

import { dataCommand } from './commands/data';
import { evalCommand } from './commands/eval';
import { fsckCommand } from './commands/fsck';
import { generateCommand } from './commands/generate';
import { infoCommand } from './commands/info';
import { selfcheckCommand } from './commands/selfcheck';
import { tasksCommand } from './commands/tasks';
import { serveCommand } from './commands/serve';
import { tokenizerCommand } from './commands/tokenizer';
import { trainCommand } from './commands/train';

/** The `seed-diffusion` program; each command lives in its own file under commands/. */
export function buildProgram(): Command {
  const program = new Command('seed-diffusion')
    .description('Seed Diffusion: a discrete-diffusion code model with block-parallel decoding')
    .version(require('../package.json').version)
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(infoCommand());
  program.addCommand(selfcheckCommand());
  program.addCommand(fsckCommand());
  program.addCommand(tokenizerCommand());
  program.addCommand(generateCommand());
  program.addCommand(evalCommand());
  program.addCommand(dataCommand());
  program.addCommand(trainCommand());
  program.addCommand(tasksCommand());
  program.addCommand(serveCommand());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    // commander already printed help/version/usage errors
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return;
    if (code?.startsWith('commander.')) process.exit(2);
    throw e;
  }
}
