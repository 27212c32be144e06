/**
 * Throwaway TLS material for the tests, made with the system's openssl in a
 * temp folder: a CA, a server certificate for 127.0.0.1 signed by it, and a
 * client certificate whose key is encrypted with a passphrase (mutual TLS).
 * EC P-256 keys: fast to make.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsFixtures {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  /** Encrypted with `passphrase`. */
  clientKeyFile: string;
  passphrase: string;
  /** A second CA that signed nothing here: trusting it must fail a handshake. */
  otherCaFile: string;
  read(file: string): Buffer;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
/** A server certificate's extensions: valid for 127.0.0.1, where the tests' servers listen. */
export const SERVER_EXTENSIONS = 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n';

/** `<name>.pem` and its key `<name>.key` (unencrypted PKCS#8) in `dir`: a self-signed CA. */
export function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', ...EC, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`]);
}

/** `<name>.pem` for `cn` signed by dir's ca.pem (ca.key), its key `<name>.key` encrypted when `passphrase` is given. */
export function makeSigned(dir: string, name: string, cn: string, extensions: string, passphrase?: string): void {
  const keyArgs = passphrase === undefined ? ['-nodes'] : ['-passout', `pass:${passphrase}`];
  openssl(dir, ['req', ...EC, ...keyArgs, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
}

export function makeTlsFixtures(passphrase = 'Key-Passphrase-c41b'): TlsFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'feedbackloop-tls-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  makeSigned(dir, 'server', '127.0.0.1', SERVER_EXTENSIONS);
  makeSigned(dir, 'client', 'feedbackloop-client', 'extendedKeyUsage=clientAuth\n', passphrase);
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    passphrase,
    otherCaFile: join(dir, 'other-ca.pem'),
    read: (file) => readFileSync(file),
  };
}
