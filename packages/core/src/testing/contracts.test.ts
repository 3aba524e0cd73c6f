import { parseAnswerLetter } from '../completion.js';
import type { Judge } from '../contracts/judge.js';
import type { Reward } from '../contracts/reward.js';
import { describeJudgeContract } from './judge.contract.js';
import { describeRewardContract } from './reward.contract.js';

// The suites run against minimal honest implementations, so a broken suite fails here first.
const formatLike: Reward = { name: 'format-like', score: (batch) => batch.map((x) => (x.parsed.wellFormed ? 1 : 0)) };
const lastLetterJudge: Judge = {
  name: 'last-letter',
  deduce: async (batch) =>
    batch.map((x) => {
      const m = [...x.think.matchAll(/\(([A-D])\)/g)].pop();
      return m ? parseAnswerLetter(m[1]!) : null;
    }),
};

describeRewardContract('format-like', () => formatLike, { range: [0, 1] });
describeJudgeContract('last-letter', () => lastLetterJudge);
