/**
 * Sign-in through an OpenID Connect provider: a member's identities at
 * outside providers, each an issuer and the subject the issuer names them by.
 */

/** An identity at an OpenID Connect provider, linked to one member. */
export interface OidcIdentity {
  id: string;
  memberId: string;
  /** The provider's issuer identifier (its `iss`). */
  issuer: string;
  /** Who the member is at that provider (the ID token's `sub`); stable, unlike the email. */
  subject: string;
  /** The address the provider gave when the identity was linked, to show the member; never trusted for sign-in. */
  email: string | null;
  createdAt: Date;
}

/** A verified identity that is not (yet) stored: what a provider's ID token says. */
export interface VerifiedIdentity {
  issuer: string;
  subject: string;
  email: string | null;
}
