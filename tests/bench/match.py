"""`match`: rank 300 consultants coming back against 2,000 open opportunities (handlers.domain.matching.rank, pure), the
median and worst of three runs. Target ≤ 1 s. The skills are drawn from a 120-word vocabulary with spelling
variants ("Postgres" / "PostgreSQL", "React.js" / "React"), so the fuzzy vocabulary step does real work."""
from __future__ import annotations

import random
import statistics
import time
from datetime import date, timedelta

from tests.bench.report import note

CONSULTANTS, OPPORTUNITIES, ROUNDS = 300, 2000, 3
TODAY = date(2026, 11, 2)
BASE = ("Java Spring-Boot PostgreSQL Postgres Docker Kubernetes Kafka Python Django Flask React React.js Angular "
        "AngularJS Vue.js AWS Azure GCP Terraform Ansible Linux C# .NET SQL-Server Oracle SAP-FI SAP-MM Salesforce "
        "Scala Spark Airflow Power-BI Tableau Go Rust Node.js TypeScript JavaScript PHP Symfony Laravel Jenkins "
        "GitLab-CI Scrum SAFe ITIL ServiceNow Cobol Mainframe Snowflake dbt Databricks MongoDB Redis Elasticsearch "
        "Kibana Grafana Prometheus OpenShift Helm ArgoCD Hibernate Quarkus Kotlin Swift Flutter iOS Android "
        "Selenium Cypress JMeter Jira Confluence TOGAF ArchiMate Figma UX-design Pandas PyTorch TensorFlow MLflow "
        "Hadoop Hive Talend Informatica Qlik SSIS SSRS SharePoint Dynamics-365 Power-Apps Cisco Fortinet "
        "Palo-Alto VMware Nutanix Windows-Server Active-Directory PowerShell Bash Perl Ruby Rails Elixir Erlang "
        "Haskell Clojure Solidity Unity Unreal C++ Qt Embedded-C AUTOSAR Matlab Simulink LabVIEW").split()
PLACES = ["Paris", "Lyon", "Nantes", "Lille", "Toulouse", "Bordeaux"]


def generated(seed: int = 29):
    """(consultants, opportunities) drawn from the vocabulary, free dates over 13 weeks, starts over 17."""
    from handlers.domain.matching import Candidate, Need

    rng = random.Random(seed)
    people = [Candidate(str(n), f"Consultant {n}", (", ".join(rng.sample(BASE, rng.randint(6, 14))),),
                        TODAY + timedelta(days=rng.randint(-20, 91)), places=tuple(rng.sample(PLACES, 2)))
              for n in range(CONSULTANTS)]
    needs = [Need(str(n), f"Opportunity {n}", tuple(rng.sample(BASE, rng.randint(3, 7))),
                  None if rng.random() < 0.1 else TODAY + timedelta(days=rng.randint(0, 120)), rng.choice(PLACES))
             for n in range(OPPORTUNITIES)]
    return people, needs


def run(work) -> dict:
    """Time `rank` on the generated data (no Redis, no host: the ranking alone)."""
    from handlers.domain.matching import rank

    people, needs = generated()
    times, found = [], {}
    for _ in range(ROUNDS):
        started = time.perf_counter()
        found = rank(people, needs, TODAY, per_consultant=3)
        times.append(time.perf_counter() - started)
    matched = sum(len(rows) for rows in found.values())
    note(f"match: {CONSULTANTS} consultants × {OPPORTUNITIES} opportunities → {matched} matches on {len(found)} "
         f"opportunities; runs {', '.join(f'{t:.3f}' for t in times)} s")
    return {"consultants": CONSULTANTS, "opportunities": OPPORTUNITIES, "matches": matched,
            "opportunities_with_matches": len(found), "median_s": round(statistics.median(times), 3),
            "worst_s": round(max(times), 3), "target_s": 1.0, "met": statistics.median(times) <= 1.0}
