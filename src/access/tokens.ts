import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, type JWTPayload, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config.js';
import { type ServiceKeys, SERVICE_SIGNING_ALG } from './keys.js';

/** The WWW-Authenticate challenge (RFC 6750) that goes with every 401 for a missing or refused bearer token. */
export const BEARER_CHALLENGE = 'Bearer realm="ncd-gateway", error="invalid_token"';

export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/** Claims of the tokens this service signs itself (SMART backend access tokens, development tokens). */
export interface ServiceTokenClaims extends JWTPayload {
  /** `user` (development token for a person) or `system` (SMART backend client). */
  ncd_kind: 'user' | 'system';
  scope?: string;
  roles?: string[];
  /** Organisation code (users); client id (systems) is `sub`. */
  org?: string;
  practitioner?: string;
  on_behalf_of?: string;
}

export class TokenService {
  private readonly serviceKeySet: JWTVerifyGetKey;
  private readonly oidcKeySet?: JWTVerifyGetKey;

  constructor(
    private readonly config: Config,
    private readonly keys: ServiceKeys,
  ) {
    this.serviceKeySet = createLocalJWKSet({ keys: [keys.signing.publicJwk] });
    const oidc = config.auth.oidc;
    if (oidc?.jwksUrl) this.oidcKeySet = createRemoteJWKSet(new URL(oidc.jwksUrl));
    else if (oidc?.jwks) this.oidcKeySet = createLocalJWKSet(JSON.parse(oidc.jwks));
  }

  async sign(claims: ServiceTokenClaims, subject: string, lifetimeSeconds = this.config.auth.accessTokenSeconds): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: SERVICE_SIGNING_ALG, kid: this.keys.signing.kid, typ: 'at+jwt' })
      .setIssuer(this.config.auth.issuer)
      .setAudience(this.config.auth.audience)
      .setSubject(subject)
      .setIssuedAt()
      .setJti(crypto.randomUUID())
      .setExpirationTime(`${lifetimeSeconds}s`)
      .sign(this.keys.signing.privateKey);
  }

  /**
   * Verifies a bearer token: signed by this service (issuer = our issuer) or by the configured OpenID Connect
   * provider (issuer, audience and expiry checked against its JWKS). Anything else is refused.
   */
  async verify(token: string): Promise<{ source: 'service' | 'oidc'; payload: JWTPayload }> {
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw new AuthenticationError('malformed bearer token');
    }
    try {
      if (issuer === this.config.auth.issuer) {
        const { payload } = await jwtVerify(token, this.serviceKeySet, {
          issuer: this.config.auth.issuer,
          audience: this.config.auth.audience,
          algorithms: [SERVICE_SIGNING_ALG],
          requiredClaims: ['exp', 'sub'],
        });
        return { source: 'service', payload };
      }
      const oidc = this.config.auth.oidc;
      if (oidc && this.oidcKeySet && issuer === oidc.issuer) {
        const { payload } = await jwtVerify(token, this.oidcKeySet, { issuer: oidc.issuer, audience: oidc.audience, requiredClaims: ['exp', 'sub'] });
        return { source: 'oidc', payload };
      }
    } catch (err) {
      throw new AuthenticationError(`invalid bearer token: ${(err as Error).message}`);
    }
    throw new AuthenticationError('bearer token from an unknown issuer');
  }
}
