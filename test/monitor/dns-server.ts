// A real DNS server on loopback (dns2, UDP): MX answers from a table; domains listed in `hang` are never answered.
import dns2 from "dns2";

const { Packet } = dns2;
/** Response codes (dns2 has them at run time; its types do not declare them). */
const RCODE = { SERVFAIL: 2, NXDOMAIN: 3 } as const;

export interface TestDns {
  /** `127.0.0.1:port` */
  address: string;
  /** Queries received, by name. */
  queries: string[];
  close(): Promise<void>;
}

export async function startDns(opts: {
  mx: Record<string, string[]>;
  hang?: string[];
  servfail?: string[];
}): Promise<TestDns> {
  const queries: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const q = request.questions[0]!;
      const name = q.name.toLowerCase();
      queries.push(name);
      if (opts.hang?.includes(name)) return; // never answered
      const response = Packet.createResponseFromRequest(request);
      if (opts.servfail?.includes(name)) {
        response.header.rcode = RCODE.SERVFAIL;
        send(response);
        return;
      }
      const hosts = opts.mx[name];
      if (!hosts) response.header.rcode = RCODE.NXDOMAIN;
      else if (q.type === Packet.TYPE.MX)
        hosts.forEach((exchange, i) =>
          // A plain record (dns2 encodes it by its fields; its types ask for a method it does not use).
          response.answers.push(<InstanceType<typeof Packet>["answers"][number]>{
            name: q.name,
            type: Packet.TYPE.MX,
            class: Packet.CLASS.IN,
            ttl: 300,
            exchange,
            priority: (i + 1) * 10,
          }),
        );
      send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: "127.0.0.1" } });
  const port = (addresses as { udp: { port: number } }).udp.port;
  return { address: `127.0.0.1:${port}`, queries, close: () => server.close() };
}
