// STARTTLS material: the configured certificate, or a self-signed one made for development.
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { Config } from "../config.js";

export interface TlsMaterial {
  key: string | Buffer;
  cert: string | Buffer;
  /** True when made here for development (clients must not verify it). */
  selfSigned: boolean;
}

export async function resolveTls(
  config: Pick<Config, "tlsCertPath" | "tlsKeyPath" | "smtpHostname">,
): Promise<TlsMaterial> {
  if (config.tlsCertPath || config.tlsKeyPath) {
    if (!config.tlsCertPath || !config.tlsKeyPath) {
      throw new Error("REBOUND_TLS_CERT and REBOUND_TLS_KEY must be given together");
    }
    const [cert, key] = await Promise.all([readFile(config.tlsCertPath), readFile(config.tlsKeyPath)]);
    return { cert, key, selfSigned: false };
  }
  return selfSignedTls(config.smtpHostname ?? hostname());
}

export async function selfSignedTls(commonName: string): Promise<TlsMaterial> {
  const { generate } = await import("selfsigned");
  const pems = await generate([{ name: "commonName", value: commonName }], { keyType: "ec", curve: "P-256" });
  return { key: pems.private, cert: pems.cert, selfSigned: true };
}
