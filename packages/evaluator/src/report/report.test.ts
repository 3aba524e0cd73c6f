import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Prediction } from '../predictions.js';
import { confusionCounts, markdownTableToHtml, renderReport } from './html.js';
import { lineChart } from './svg.js';

const pred = (answer: string, parsed: string | null): Prediction =>
  ({ id: `${answer}${parsed}`, task: 'lesion_localization', answer, parsed, raw: '', judgeDeduction: null, correct: answer === parsed, formatOk: true, thinkCorrect: false, seed: 0 }) as Prediction;

test('confusion counts put keys in rows, predictions in columns and no-answer last', () => {
  const m = confusionCounts([pred('A', 'A'), pred('A', 'B'), pred('C', null), pred('D', 'D')], 'lesion_localization');
  assert.deepEqual(m, [
    [1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 1],
    [0, 0, 0, 1, 0],
  ]);
  assert.deepEqual(confusionCounts([pred('A', 'A')], 'anomaly_detection').flat().reduce((a, b) => a + b, 0), 0);
});

test('line charts draw one path per series scaled into the plot', () => {
  const svg = lineChart(
    [
      { name: 'loss', points: [[0, 2], [10, 1]] },
      { name: 'kl', points: [[0, 0], [10, 0.5]] },
    ],
    { title: 'curves', width: 200, height: 100 },
  );
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.match(svg, /M52\.0,/); // first point at the left margin
});

test('the report embeds tables, charts and escaped sample text', () => {
  const html = renderReport({
    title: 'Results',
    tablesHtml: markdownTableToHtml('| Method | Overall |\n|---|---|\n| SFT | 80.00 |\n'),
    runs: [{ name: 'sft', metrics: [{ step: 1, loss: 2 }, { step: 2, loss: 1 }] }],
    curveKeys: ['loss', 'missing'],
    perTask: [{ method: 'SFT', perTask: { anomaly_detection: 90 } }],
    samples: [{ id: 's1', task: 'anomaly_detection', question: 'Is there a <lesion>?', options: ['Yes', 'No', 'Maybe', 'Unknown'], answer: 'A', output: '<think>x</think>', correct: true, png: new Uint8Array([1, 2, 3]) }],
  });
  assert.match(html, /<td>SFT<\/td><td>80\.00<\/td>/);
  assert.equal((html.match(/<svg /g) ?? []).length, 2); // one curve (missing key skipped) + bars
  assert.match(html, /Is there a &lt;lesion&gt;\?/);
  assert.match(html, /data:image\/png;base64,AQID/);
});
