/**
 * The kafkajs-style `ssl` and `sasl` settings (runtime/client-options.ts,
 * kafkaSecurity) as @platformatic/kafka connection options. Mechanisms it
 * knows: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (also OAUTHBEARER and GSSAPI,
 * which feedbackloop's config does not offer); kafkajs's AWS IAM has no
 * counterpart.
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { ConnectionOptions } from '@platformatic/kafka';
import { FeedbackloopError } from '../../../core/errors.js';

export interface KafkaSecurity {
  ssl?: boolean | TlsOptions;
  sasl?: { mechanism: string; username?: string; password?: string };
}

const MECHANISMS = new Map([
  ['plain', 'PLAIN'],
  ['scram-sha-256', 'SCRAM-SHA-256'],
  ['scram-sha-512', 'SCRAM-SHA-512'],
] as const);

export function connectionSecurity(security: KafkaSecurity | undefined): Pick<ConnectionOptions, 'tls' | 'sasl'> {
  const out: Pick<ConnectionOptions, 'tls' | 'sasl'> = {};
  if (security?.ssl) out.tls = security.ssl === true ? {} : security.ssl;
  if (security?.sasl) {
    const mechanism = MECHANISMS.get(security.sasl.mechanism.toLowerCase() as 'plain');
    if (!mechanism) throw new FeedbackloopError(`kafka.client platformatic: SASL mechanism ${security.sasl.mechanism} is not supported`, { systemic: true });
    out.sasl = { mechanism, username: security.sasl.username ?? '', password: security.sasl.password ?? '' };
  }
  return out;
}
