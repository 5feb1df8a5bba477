// Which invocations the runtime has finished handing off. The runtime and the extension learn of an
// invocation at the same moment, so a fast handler's "done" can arrive before the extension has even
// read its INVOKE event: signals are remembered, not only awaited.

const REMEMBERED = 64;

export class Handoffs {
  private readonly done = new Set<string>();
  private readonly waiters = new Map<string, () => void>();

  signal(requestId: string): void {
    const waiter = this.waiters.get(requestId);
    if (waiter !== undefined) {
      this.waiters.delete(requestId);
      waiter();
      return;
    }
    this.done.add(requestId);
    // Only the latest few matter (one invocation runs at a time); old ids would only leak.
    if (this.done.size > REMEMBERED) this.done.delete(this.done.values().next().value!);
  }

  /** Resolves `true` once `requestId` is signalled, or `false` at `deadline` (epoch ms). */
  wait(requestId: string, deadline: number): Promise<boolean> {
    if (this.done.delete(requestId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.waiters.delete(requestId);
          resolve(false);
        },
        Math.max(0, deadline - Date.now()),
      );
      this.waiters.set(requestId, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
