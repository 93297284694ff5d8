import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.js";

export default async function imports(_app: FastifyInstance, _deps: ApiDeps): Promise<void> {}
