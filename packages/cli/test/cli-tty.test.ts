import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BIN, runCli } from './run-cli.js';

/**
 * Runs the binary on a pseudo-terminal (util-linux `script`), typing `input` once the prompt shows,
 * and typing Ctrl-C once `interruptWhen` holds for the output so far. The interrupt waits on output,
 * not on a timer: on a loaded machine Node may not have installed its SIGINT handler after a fixed delay,
 * and the default action would end the process with 130 instead of the command's own clean exit.
 */
function onTerminal(
  args: string[],
  input: string | null,
  interruptWhen?: (output: string) => boolean,
): Promise<{ code: number | null; output: string }> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  // `script` runs the command through $SHELL, or /bin/sh when SHELL is unset (as under CI). dash does not
  // replace itself with the last command there, so Ctrl-C would reach the shell too and it would die of
  // SIGINT (130) whatever the binary did. `exec` leaves only the binary on the terminal.
  const command = `exec ${quoted}`;
  return new Promise((resolve) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let typed = false;
    let interrupted = false;
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (input !== null && !typed && output.includes('[y/N]')) {
        typed = true;
        child.stdin.write(input);
      }
      if (interruptWhen !== undefined && !interrupted && interruptWhen(output)) {
        interrupted = true;
        child.stdin.write('\x03'); // Ctrl-C on the terminal
      }
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('oddjob CLI on a terminal (pseudo-terminal through script)', function () {
  this.timeout(60_000);
  let root: string;
  let dir: string;

  before(async function () {
    if (spawnSync('script', ['--version']).status !== 0) {
      console.warn('    skipping: util-linux `script` is not installed');
      this.skip();
    }
    root = await mkdtemp(join(tmpdir(), 'oddjob-tty-'));
    dir = join(root, 'store');
    expect((await runCli(['--store', dir, 'migrate'])).code).to.equal(0);
    for (let i = 0; i < 2; i++)
      expect((await runCli(['--store', dir, 'enqueue', 't', 'm', '[]', '--queue', 'tty-q'])).code).to.equal(0);
  });
  after(() => (root ? rm(root, { recursive: true, force: true }) : undefined));

  it('asks before a change by filter: "n" changes nothing, "y" applies it', async () => {
    const no = await onTerminal(['--store', dir, 'jobs', 'cancel', '--queue', 'tty-q'], 'n\r');
    expect(no.output).to.contain('cancel 2 jobs (status waiting,new,retry, queue tty-q)? [y/N]');
    expect(no.output).to.contain('oddjob: error: cancelled, nothing changed');
    expect(no.code).to.equal(1);
    const yes = await onTerminal(['--store', dir, 'jobs', 'cancel', '--queue', 'tty-q'], 'y\r');
    expect(yes.output).to.contain('cancelled 2 of 2 jobs');
    expect(yes.code).to.equal(0);
  });

  it('watch redraws in place until Ctrl-C', async () => {
    const framesOf = (output: string): number => output.split('\x1b[H\x1b[2J').length - 1;
    // The handler is installed before the first frame is drawn, so Ctrl-C after the third frame is a clean stop.
    const w = await onTerminal(
      ['--store', dir, 'jobs', 'watch', '--interval-ms', '200'],
      null,
      (o) => framesOf(o) >= 3,
    );
    expect(framesOf(w.output)).to.be.at.least(3);
    expect(w.output).to.match(/tty-q\s+0\s+0\s+0\s+0\s+0\s+0\s+2/);
    expect(w.code).to.equal(0);
  });
});
