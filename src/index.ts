// The library: the pure core, for senders who classify or mint return paths in their own code.
export { classify, CLASSIFIER_VERSION } from "./core/classify.js";
export * from "./core/report.js";
export {
  normalizeAddress,
  addressHasher,
  type AddressHasher,
  type NormalizedAddress,
} from "./core/address.js";
export * from "./core/verp.js";
