/**
 * `cls`, made callable without `new` as well: a plain call runs `call`. LaunchDarkly's v7 SDK documented
 * `TestData()` and `FileDataSource(options)` as functions, which an ES class on its own rejects.
 * `new`, `instanceof` and subclassing still reach the class itself.
 */
export function callableWithoutNew<
  C extends abstract new (
    ...args: never[]
  ) => unknown,
  A extends unknown[],
  R,
>(cls: C, call: (...args: A) => R): C & ((...args: A) => R) {
  return new Proxy(cls, { apply: (_target, _thisArg, args) => call(...(args as A)) }) as C &
    ((...args: A) => R);
}
