import { InfraError } from "../core/errors";
import { asText } from "../core/describe";

/** The SASL mechanisms we speak; "none" skips the SASL layer (brokers without auth). */
export type SaslMechanism = "plain" | "anonymous" | "external" | "none";

const MECHANISMS: readonly SaslMechanism[] = ["plain", "anonymous", "external", "none"];

/**
 * A mechanism name as a user or flow file writes it. SASL names are case-insensitive in
 * practice and the IANA registry spells them in capitals (`PLAIN`, `ANONYMOUS`, `EXTERNAL`),
 * so any case and surrounding blanks are accepted; empty means "not set".
 */
export function parseSaslMechanism(v: unknown): SaslMechanism | undefined {
  if (v === undefined || v === null) return undefined;
  const name = asText(v).trim();
  if (name === "") return undefined;
  const m = name.toLowerCase() as SaslMechanism;
  if (!MECHANISMS.includes(m)) throw new InfraError("sasl-config", `unknown SASL mechanism ${JSON.stringify(name)} (plain, anonymous, external or none)`);
  return m;
}
