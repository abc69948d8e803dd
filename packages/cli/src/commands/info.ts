import { Command } from 'commander';

import { loadBackend } from '@seed-diffusion/native';

/** `seed-diffusion info`: the backends available, the one chosen and why, CPU features, CUDA device. */
export function infoCommand(): Command {
  return new Command('info')
    .description('show the compute backends available, the one chosen and why, CPU features and CUDA device')
    .option('--json', 'print the report as JSON')
    .action((opts: { json?: boolean }) => {
      const { report } = loadBackend();
      if (opts.json) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      const yes = (b: boolean) => (b ? 'yes' : 'no');
      const lines = [
        `backend:   ${report.chosen}  (${report.reason})`,
        `requested: ${report.requested}  (set SD_BACKEND=cuda|cpu|wasm to choose)`,
        `cpu:       ${report.cpu.model}, ${report.cpu.cores} cores, features: ${report.cpu.features.join(' ') || 'unknown'}`,
        `addon:     ${report.addon.loaded ? `${report.addon.source ?? 'loaded'}: ${report.addon.path} [${report.addon.buildInfo}], ${report.addon.threads} threads` : `not loaded: ${report.addon.error}`}`,
        ...(report.addon.isa
          ? [
              `kernels:   ${report.addon.isa.isa}` +
                (report.addon.isa.supported.length
                  ? ` (this CPU runs: ${report.addon.isa.supported.join(' ')}; SD_CPU_ISA=base|avx2 forces a narrower one)`
                  : ' (built for one ISA: no runtime dispatch)'),
            ]
          : []),
        `wasm:      ${report.wasm.available ? report.wasm.path : `missing: ${report.wasm.error}`}`,
        `cuda:      compiled ${yes(report.cuda.compiled)}, devices ${report.cuda.devices}${report.cuda.name ? ` (${report.cuda.name})` : ''}${report.cuda.error ? `; ${report.cuda.error}` : ''}`,
      ];
      console.log(lines.join('\n'));
    });
}
