/** The judge chat prompt lives in @medad/core (one place for building and reading it). */
export { parseJudgePrompt, type ChatMessageIn, type ParsedJudgePrompt } from '@medad/core';
