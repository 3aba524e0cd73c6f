/** tsyringe token of the Store (an interface, so it needs a token; classes are their own tokens). */
export const StoreToken = Symbol.for('medad.server.Store');
