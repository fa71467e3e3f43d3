// openapi.yaml, read at test time, so the tests check the client against the contract as it is now.
import Ajv2020 from "ajv/dist/2020";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

// A string, not a URL object: under jsdom, URL is jsdom's and node's fileURLToPath refuses it.
const openapiPath = resolve(dirname(fileURLToPath(import.meta.url)), "../../../openapi.yaml");
export const openapi = parse(readFileSync(openapiPath, "utf8"));

const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(openapi, "openapi");

/** Throws with ajv's report when `value` does not match components/schemas/<name>. */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = ajv.getSchema(`openapi#/components/schemas/${name}`);
  if (!validate) throw new Error(`openapi.yaml has no schema ${name}`);
  if (!validate(value)) throw new Error(`${name}: ${ajv.errorsText(validate.errors)}`);
}

export const errorCodes: string[] = openapi.components.schemas.Error.properties.error.properties.code.enum;
