/**
 * docker-compose.yml holds together without a Docker engine to try it: every
 * file a service mounts is in the repository, every named volume is declared,
 * Prometheus sends its alerts to the Alertmanager service on its port, the
 * Alertmanager config routes to a receiver it defines, and the Grafana
 * ClickHouse plugin is pinned (the dashboards' SQL is tested against its macros).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string) => parse(readFileSync(join(ROOT, path), 'utf8')) as Record<string, any>;
const compose = read('docker-compose.yml');
const services = compose.services as Record<string, { volumes?: string[]; ports?: string[]; environment?: Record<string, string>; image?: string }>;

describe('docker-compose.yml', () => {
  it('mounts only files that exist, and declares every named volume', () => {
    const declared = Object.keys(compose.volumes ?? {});
    for (const [name, service] of Object.entries(services)) {
      for (const mount of service.volumes ?? []) {
        const source = mount.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
        else expect(declared, `${name}: volume ${source}`).toContain(source);
      }
    }
    // Each stateful server keeps its data in a volume.
    for (const name of ['kafka', 'clickhouse', 'prometheus', 'alertmanager', 'grafana', 'feedbackloop']) {
      expect((services[name]!.volumes ?? []).some((m) => !m.startsWith('./')), name).toBe(true);
    }
  });

  it('Prometheus alerts go to the Alertmanager service, which routes them to a receiver it defines', () => {
    const prometheus = read('dashboards/prometheus/prometheus.yml');
    const targets = prometheus.alerting.alertmanagers.flatMap((a: { static_configs: Array<{ targets: string[] }> }) => a.static_configs.flatMap((c) => c.targets));
    expect(targets).toEqual(['alertmanager:9093']);
    expect(services.alertmanager!.ports).toContain('9093:9093');
    const alertmanager = read('dashboards/alertmanager/alertmanager.yml');
    const receivers = alertmanager.receivers.map((r: { name: string }) => r.name);
    const routed = [alertmanager.route.receiver, ...(alertmanager.route.routes ?? []).map((r: { receiver: string }) => r.receiver)];
    for (const receiver of routed) expect(receivers).toContain(receiver);
  });

  it('pins the Grafana ClickHouse plugin version', () => {
    expect(services.grafana!.environment!.GF_INSTALL_PLUGINS).toMatch(/^grafana-clickhouse-datasource \d+\.\d+\.\d+$/);
  });
});
