// Client-side evaluation is shared with the relay: it lives in @flagstaff/eval.
export {
  availableTo,
  type ClientAudience as Audience,
  type EvaluatedFlag,
  evaluateAll,
} from '@flagstaff/eval';
