// Brand symbols: how a value is recognised across copies of a package (two installs, or the
// ESM and CJS builds side by side), where `instanceof` fails. Each brand is a registered
// symbol (`Symbol.for`), so every copy of the package sees the same one.

/** Brand of a `Store` implementation (`isStore` checks it). */
export const STORE_BRAND: unique symbol = Symbol.for('@converge/store') as never;

/** Brand of an `Identity` (`isIdentity` checks it). */
export const IDENTITY_BRAND: unique symbol = Symbol.for('@converge/identity') as never;

/** Brand of an `Agent` (`isAgent` checks it). */
export const AGENT_BRAND: unique symbol = Symbol.for('@converge/agent') as never;

/** Whether `value` is an object (or function) carrying `brand` with the value `true`. */
export function hasBrand(value: unknown, brand: symbol): boolean {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
