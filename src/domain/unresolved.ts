/**
 * What a domain service answers for a record sent under its own id (a FHIR resource) that it cannot hold because
 * a link cannot be followed: an unknown patient, an insurer or practitioner not in the domain. The sender's
 * resource is valid and stays where it was stored (the FHIR store); the reason goes back to the sender as a warning.
 */
export class Unresolved {
  constructor(
    readonly message: string,
    /** The element of the sent resource at fault, e.g. `Coverage.payor`. */
    readonly element?: string,
  ) {}
}

export const isUnresolved = (x: unknown): x is Unresolved => x instanceof Unresolved;
