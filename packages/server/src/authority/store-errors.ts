import { StoreConflictError, type Store } from '../store/store.ts';

/**
 * The store, each failed call counted by method name. A unique-value conflict is an answer, not a failure. A Proxy
 * rather than a class spelling out some sixty methods; each is called on the store itself, so its private state works.
 */
type Method = (...args: unknown[]) => unknown;

export function countingErrors(store: Store, failed: (operation: string) => void): Store {
  // By the function, not its name: a method replaced on the store (tests gate one) gets a wrapper of its own.
  const wrapped = new WeakMap<Method, Method>();
  const count = (operation: string, err: unknown) => {
    if (!(err instanceof StoreConflictError)) failed(operation);
  };
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const original = value as Method;
      let method = wrapped.get(original);
      if (!method) {
        method = (...args: unknown[]) => {
          try {
            const result = original.apply(target, args);
            return result instanceof Promise ? result.catch((err: unknown) => { count(prop, err); throw err; }) : result;
          } catch (err) {
            count(prop, err);
            throw err;
          }
        };
        wrapped.set(original, method);
      }
      return method;
    },
  });
}
