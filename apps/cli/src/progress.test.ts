import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalProgress } from './progress.js';

/** A non-TTY stream that keeps what is written. */
function sink(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s.trimEnd()) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

test('a resumed run counts its rate from where it resumed: no ETA before its first own step', () => {
  const { stream, lines } = sink();
  const p = terminalProgress(stream, 0);
  p.start(400, 'con-grpo', 120);
  p.update(120);
  p.update(400);
  assert.match(lines[0]!, /^con-grpo \[#+-+\] 120\/400 30% \d+:\d\d ETA --:--$/);
  assert.match(lines[1]!, /^con-grpo \[#{24}\] 400\/400 100% \d+:\d\d ETA 0:00$/);
});
