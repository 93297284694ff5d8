// A throw-away Dovecot (IMAP and POP3) on loopback for integration tests: its own config, state and Maildirs in a
// temp folder, one static password for every user. With `tls`, a self-signed certificate (the `selfsigned`
// package) for STARTTLS/STLS: `offered`, or `required` (no login before TLS). Needs Debian's dovecot-imapd and root (.ci/run installs it);
// `dovecotAvailable` says whether this machine has it.
import { spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { generate } from "selfsigned";
import { until } from "../e2e/until.js";
import { freePort } from "./postfix.js";

export const DOVECOT = "/usr/sbin/dovecot";
export const dovecotAvailable = existsSync(DOVECOT) && process.getuid?.() === 0;
export const DOVECOT_PASSWORD = "imap-test-secret";

export interface DovecotInstance {
  imapPort: number;
  pop3Port: number;
  /** A logged-in client of `user` (the caller logs out). */
  client(user: string): Promise<ImapFlow>;
  stop(): Promise<void>;
}

function ids(user: string): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user}`);
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export interface DovecotOptions {
  tls?: "offered" | "required";
}

export async function startDovecot(opts: DovecotOptions = {}): Promise<DovecotInstance> {
  const dir = mkdtempSync(join(tmpdir(), "rebound-dovecot-"));
  chmodSync(dir, 0o755);
  for (const d of ["mail", "run", "state"]) mkdirSync(join(dir, d));
  const owner = ids("dovecot");
  chownSync(join(dir, "mail"), owner.uid, owner.gid);
  const imapPort = await freePort();
  const pop3Port = await freePort();
  let ssl = "ssl = no\ndisable_plaintext_auth = no";
  if (opts.tls) {
    const pems = await generate([{ name: "commonName", value: "127.0.0.1" }], {
      keyType: "ec",
      curve: "P-256",
    });
    writeFileSync(join(dir, "cert.pem"), pems.cert);
    writeFileSync(join(dir, "key.pem"), pems.private, { mode: 0o600 });
    ssl =
      `ssl = ${opts.tls === "required" ? "required" : "yes"}\n` +
      `ssl_cert = <${dir}/cert.pem\nssl_key = <${dir}/key.pem\n` +
      `disable_plaintext_auth = ${opts.tls === "required" ? "yes" : "no"}`;
  }
  writeFileSync(
    join(dir, "dovecot.conf"),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
${ssl}
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
first_valid_uid = 1
passdb {
  driver = static
  args = password=${DOVECOT_PASSWORD}
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${dir}/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  chroot =
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  chroot =
}
`,
  );
  const child: ChildProcess = spawn(DOVECOT, ["-F", "-c", join(dir, "dovecot.conf")], { stdio: "ignore" });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const client = async (user: string) => {
    const c = new ImapFlow({
      host: "127.0.0.1",
      port: imapPort,
      secure: false,
      auth: { user, pass: DOVECOT_PASSWORD },
      tls: { rejectUnauthorized: false },
      logger: false,
    });
    await c.connect();
    return c;
  };
  await until(
    async () => {
      try {
        await (await client("probe")).logout();
        return true;
      } catch {
        return false;
      }
    },
    20_000,
    100,
  );
  return {
    imapPort,
    pop3Port,
    client,
    async stop() {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
