import 'reflect-metadata';
import { container as rootTsyringe, type DependencyContainer } from 'tsyringe';
import { ErrorCode, MedadError } from './errors.js';

/** A typed DI token: `resolve(token)` returns `T` without a cast. */
export interface Token<T> {
  readonly key: symbol;
  readonly name: string;
  /** Phantom field that carries the type; never set. */
  readonly __type?: T;
}

/** Creates a typed token. Names are for error messages; identity is the symbol. */
export function createToken<T>(name: string): Token<T> {
  return Object.freeze({ key: Symbol(name), name });
}

/** Anything that can hand out services by token (what plugins receive). */
export interface Resolver {
  resolve<T>(token: Token<T>): T;
  tryResolve<T>(token: Token<T>): T | undefined;
  isRegistered(token: Token<unknown>): boolean;
}

/** A typed facade over a tsyringe container; each run gets a child. */
export class Container implements Resolver {
  private readonly names = new Map<symbol, string>();

  constructor(
    private readonly inner: DependencyContainer,
    private readonly parent?: Container,
  ) {}

  /** Registers a value for a token in this container (children see it; the parent does not). */
  register<T>(token: Token<T>, value: T): this {
    this.inner.register(token.key, { useValue: value });
    this.names.set(token.key, token.name);
    return this;
  }

  /** Registers a factory that runs once, on first resolve. */
  registerFactory<T>(token: Token<T>, factory: (c: Container) => T): this {
    let made = false;
    let value: T;
    this.inner.register(token.key, {
      useFactory: () => {
        if (!made) {
          value = factory(this);
          made = true;
        }
        return value;
      },
    });
    this.names.set(token.key, token.name);
    return this;
  }

  isRegistered(token: Token<unknown>): boolean {
    return this.inner.isRegistered(token.key, true);
  }

  resolve<T>(token: Token<T>): T {
    if (!this.isRegistered(token)) {
      throw new MedadError(ErrorCode.Internal, `No service is registered for token "${token.name}"`, {
        fix: `register it before use; registered tokens: ${this.registeredNames().join(', ') || '(none)'}`,
      });
    }
    return this.inner.resolve<T>(token.key);
  }

  tryResolve<T>(token: Token<T>): T | undefined {
    return this.isRegistered(token) ? this.inner.resolve<T>(token.key) : undefined;
  }

  /** A child container: registrations here shadow the parent's and vanish with the child. */
  createChild(): Container {
    return new Container(this.inner.createChildContainer(), this);
  }

  /** Names of the tokens visible from this container. */
  registeredNames(): string[] {
    const own = [...this.names.values()];
    return [...new Set([...(this.parent?.registeredNames() ?? []), ...own])].sort();
  }
}

/** A fresh root container (not tsyringe's global one, so tests never share state). */
export function createRootContainer(): Container {
  return new Container(rootTsyringe.createChildContainer());
}

/** A container with the given registrations, for plugin tests. */
export function createTestContainer(registrations: Array<[Token<unknown>, unknown]> = []): Container {
  const c = createRootContainer();
  for (const [token, value] of registrations) c.register(token, value);
  return c;
}
