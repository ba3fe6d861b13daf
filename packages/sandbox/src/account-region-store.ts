/**
 * State kept per (account, Region), the way AWS partitions every regional service: a topic, a finding or an
 * evaluation made with one account's keys in one Region is invisible from any other pair.
 *
 * A scope is created on first use by a request (`of`); the read side for tests and the demo (`find`) never
 * creates one, so looking at an account does not make it exist.
 */
export class AccountRegionStore<T> {
  private readonly scopes = new Map<string, T>();
  private readonly create: (accountId: string, region: string) => T;

  constructor(create: (accountId: string, region: string) => T) {
    this.create = create;
  }

  /** The scope of an account and Region, created empty if it has none yet. */
  of(accountId: string, region: string): T {
    const key = scopeKey(accountId, region);
    let scope = this.scopes.get(key);
    if (scope === undefined) {
      scope = this.create(accountId, region);
      this.scopes.set(key, scope);
    }
    return scope;
  }

  /** The scope if a request has created it. */
  find(accountId: string, region: string): T | undefined {
    return this.scopes.get(scopeKey(accountId, region));
  }

  /** Every scope, in the order they were created. */
  values(): IterableIterator<T> {
    return this.scopes.values();
  }

  /** `<account>/<region>` of every scope, in the order they were created. */
  keys(): IterableIterator<string> {
    return this.scopes.keys();
  }

  clear(): void {
    this.scopes.clear();
  }
}

function scopeKey(accountId: string, region: string): string {
  return `${accountId}/${region}`;
}
