import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.js";

export default async function exportsRoutes(_app: FastifyInstance, _deps: ApiDeps): Promise<void> {}
