"""Scrapes `/metrics` and parses it with the Prometheus project's own OpenMetrics parser; prints
each sample as `name{labels} value`, one a line.

usage: metrics_parse.py <base URL>
"""
import sys
import urllib.request

from prometheus_client.openmetrics.parser import text_string_to_metric_families

with urllib.request.urlopen(f"{sys.argv[1]}/metrics") as answer:
    content_type = answer.headers["Content-Type"]
    assert content_type.startswith("application/openmetrics-text"), content_type
    text = answer.read().decode()

for family in text_string_to_metric_families(text):
    for sample in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
        print(f"{sample.name}{{{labels}}} {sample.value}")
