/** The judge chat prompt lives in @medad/core (one place for building and reading it). */
export {
  FINDINGS_PROMPT_VERSION,
  FINDINGS_SYSTEM_PROMPT,
  JUDGE_PROMPT_VERSION,
  JUDGE_SYSTEM_PROMPT,
  buildJudgeMessages,
  parseJudgeReply,
  promptVersion,
  type JudgeMessage,
  type JudgeReply,
} from '@medad/core';
