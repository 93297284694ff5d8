// A throw-away Postfix instance on loopback for integration tests: its own config, queue and log in a temp
// folder, smtpd on a free port, everything relayed to `relayPort` (a sink of the test's), no DNS. Needs Debian's
// postfix package and root (.ci/run installs it); `postfixAvailable` says whether this machine has it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../e2e/until.js";

export const POSTFIX = "/usr/sbin/postfix";
export const postfixAvailable = existsSync(POSTFIX) && process.getuid?.() === 0;

export interface PostfixInstance {
  dir: string;
  port: number;
  /** What Postfix logged (maillog_file), so far. */
  log(): string;
  /** Submits a mail locally, as an application would (sendmail -> pickup: no smtpd restrictions). */
  sendmail(from: string, to: string, data: string): void;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const MASTER_CF = `
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

/** `main`: extra main.cf lines (restrictions, maps). */
export async function startPostfix(opts: { relayPort: number; main: string }): Promise<PostfixInstance> {
  const dir = mkdtempSync(join(tmpdir(), "rebound-postfix-"));
  chmodSync(dir, 0o755); // Postfix's unprivileged daemons work in its queue below it
  const port = await freePort();
  for (const d of ["queue", "data"]) spawnSync("mkdir", ["-p", join(dir, d)]);
  chownSync(join(dir, "data"), uid("postfix"), -1);
  const logFile = join(dir, "maillog");
  writeFileSync(
    join(dir, "main.cf"),
    [
      "compatibility_level = 3.6",
      `queue_directory = ${dir}/queue`,
      `data_directory = ${dir}/data`,
      "meta_directory = /etc/postfix",
      "mail_owner = postfix",
      "setgid_group = postdrop",
      "inet_interfaces = 127.0.0.1",
      "inet_protocols = ipv4",
      "myhostname = postfix.test",
      "mydomain = postfix.test",
      "mydestination =",
      "relay_domains =",
      "local_recipient_maps =",
      "alias_maps =",
      "alias_database =",
      "mynetworks = 127.0.0.0/8",
      `relayhost = [127.0.0.1]:${opts.relayPort}`,
      "smtp_dns_support_level = disabled",
      "smtp_tls_security_level = none",
      `maillog_file = ${logFile}`,
      `maillog_file_prefixes = ${dir}`,
      "queue_run_delay = 1s",
      "minimal_backoff_time = 1s",
      "maximal_backoff_time = 2s",
      "bounce_queue_lifetime = 0",
      opts.main,
    ].join("\n") + "\n",
  );
  writeFileSync(join(dir, "master.cf"), `127.0.0.1:${port} inet n - n - - smtpd\n${MASTER_CF}`);
  const child: ChildProcess = spawn(POSTFIX, ["-c", dir, "start-fg"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  try {
    await until(async () => log().includes("daemon started") && (await canConnect(port)), 20_000, 100);
  } catch {
    child.kill("SIGKILL");
    throw new Error(`postfix did not start:\n${output}\n${log()}`);
  }
  return {
    dir,
    port,
    log,
    sendmail(from, to, data) {
      const r = spawnSync("/usr/sbin/sendmail", ["-C", dir, "-f", from, "--", to], { input: data });
      if (r.status !== 0) throw new Error(`sendmail failed: ${r.stderr?.toString()}`);
    },
    async stop() {
      spawnSync(POSTFIX, ["-c", dir, "stop"]);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function uid(user: string): number {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user}`);
  return Number(line.split(":")[2]);
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}
