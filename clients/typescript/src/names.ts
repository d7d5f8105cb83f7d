// The schema's enumerants by the names server/protocol.capnp gives them ("notFound",
// "email", "deleted"), derived from the generated code, so that a value added to the schema
// is known here after the next build without an edit. capnp-es spells enumerants in
// SCREAMING_SNAKE_CASE; the schema and docs/protocol.md use camelCase.
import { ErrorCode, Field, Role, Status } from "./gen/server/protocol.js";

type CamelTail<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Capitalize<Lowercase<Head>>}${CamelTail<Tail>}`
  : Capitalize<Lowercase<S>>;
// "REQUEST_KEY_REUSED" -> "requestKeyReused"
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Lowercase<Head>}${CamelTail<Tail>}`
  : Lowercase<S>;

function camelCase(name: string): string {
  return name.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

// Both directions between an enum's numbers and its schema names.
class EnumNames<E extends Record<string, number>> {
  private readonly byValue = new Map<number, CamelCase<keyof E & string>>();
  private readonly byName = new Map<string, number>();

  constructor(enumeration: E) {
    for (const [key, value] of Object.entries(enumeration)) {
      const name = camelCase(key) as CamelCase<keyof E & string>;
      this.byValue.set(value, name);
      this.byName.set(name, value);
    }
  }

  // The name of `value`, or undefined for a value this build's schema does not know.
  name(value: number): CamelCase<keyof E & string> | undefined {
    return this.byValue.get(value);
  }

  // The number of `name`, or undefined when the schema has no such name.
  value(name: string): number | undefined {
    return this.byName.get(name);
  }

  names(): CamelCase<keyof E & string>[] {
    return [...this.byValue.values()];
  }
}

// A refusal's or a failure's code, as docs/protocol.md lists them.
export type ErrorCodeName = CamelCase<keyof typeof ErrorCode & string>;
// A customer field: "name", "company", "email", "phone", "address", "notes".
export type FieldName = CamelCase<keyof typeof Field & string>;
export type RoleName = CamelCase<keyof typeof Role & string>;
export type StatusName = CamelCase<keyof typeof Status & string>;

export const errorCodes = new EnumNames(ErrorCode);
export const fields = new EnumNames(Field);
export const roles = new EnumNames(Role);
export const statuses = new EnumNames(Status);
