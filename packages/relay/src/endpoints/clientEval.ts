// Client-side evaluation is shared with the flag service: it lives in @flagstaff/eval.
export { availableTo, type EvaluatedFlag, evaluateAll, evaluationData } from '@flagstaff/eval';
