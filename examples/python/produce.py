#!/usr/bin/env python3
"""Publish predictions or feedback to feedbackloop from Python (confluent-kafka).

Each line of a JSON Lines file is one event (the fields are in the README's
"Connect your app"). It is sent as a JSON value keyed by its prediction_id:
feedbackloop reads JSON values beside Avro, so no schema registry is needed.

    pip install confluent-kafka
    python examples/python/produce.py --bootstrap-servers localhost:9092 \
        --topic predictions --file examples/predictions.jsonl

The producer places records with `murmur2_random`, Kafka's default
partitioner for keyed records, so a prediction and its feedback land on the
same partition number (librdkafka's own default, CRC32, does not; the joiner
then forwards each misplaced record to its partition, at the cost of one more
write). Extra producer settings go in as `-X name=value` (security settings:
`-X security.protocol=SASL_SSL -X sasl.mechanism=SCRAM-SHA-512 ...`).
Exits non-zero if any record was not acknowledged.
"""
import argparse
import json
import sys

from confluent_kafka import Producer


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", required=True, help="host:port[,host:port...]")
    parser.add_argument("--topic", required=True, help="predictions or feedback (your topic names)")
    parser.add_argument("--file", required=True, help="JSON Lines file, one event per line")
    parser.add_argument("--partitioner", default="murmur2_random",
                        help="librdkafka partitioner (default murmur2_random, as Kafka's Java client)")
    parser.add_argument("-X", dest="extra", action="append", default=[], metavar="NAME=VALUE",
                        help="any other librdkafka producer setting")
    return parser.parse_args(argv)


def producer_config(args):
    config = {"bootstrap.servers": args.bootstrap_servers, "partitioner": args.partitioner,
              "enable.idempotence": True, "acks": "all"}
    for setting in args.extra:
        name, sep, value = setting.partition("=")
        if not sep:
            raise SystemExit(f"-X {setting}: expected NAME=VALUE")
        config[name] = value
    return config


def main(argv):
    args = parse_args(argv)
    producer = Producer(producer_config(args))
    failures = []

    def delivered(error, message):
        if error is not None:
            failures.append(f"{message.key().decode()}: {error}")

    sent = 0
    with open(args.file, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                key = event["prediction_id"]
            except (ValueError, KeyError, TypeError) as error:
                print(f"{args.file}:{number}: skipped, not an event with a prediction_id ({error})", file=sys.stderr)
                continue
            producer.produce(args.topic, key=str(key).encode(), value=json.dumps(event).encode(), on_delivery=delivered)
            sent += 1
            producer.poll(0)
    remaining = producer.flush(60)
    if remaining or failures:
        for failure in failures[:10]:
            print(f"not delivered: {failure}", file=sys.stderr)
        print(f"{len(failures) + remaining} of {sent} records not delivered", file=sys.stderr)
        return 1
    print(f"{sent} records delivered to {args.topic}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
