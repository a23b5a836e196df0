"""Write the demo company's input files (deterministic: a fixed seed, no clock).

Keller Industrie-Software GmbH makes three digital products: an industrial IoT platform
(Jira project IOT), a customer self-service portal (PORTAL) and a field-service mobile
app (FIELD). This script writes, next to itself:

* ``backlog.csv``  - a Jira "Export CSV (all fields)": 11 initiatives (project STRAT) and
  their epics, with the custom fields the planning needs;
* ``teams.csv``    - six teams, one skill each, capacity in person-weeks per quarter;
* ``kpis.csv``     - 36 months (2024-01 ... 2026-12) of product KPIs per product;
* ``okrs.csv``     - four objectives with ten key results (baselines from kpis.csv);
* ``settings.yaml`` - the planning settings (start 2027-01-01, eight quarters).

Run from the project root: ``.venv/bin/python data/demo/generate.py``. Running it twice
gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

SEED = 20270101
OUT = Path(__file__).resolve().parent
PLAN_START = datetime(2027, 1, 1)
PERIODS = 8
PRODUCTIVE_WEEKS_PER_QUARTER = 11  # 13 weeks minus holidays, sickness, training

# ------------------------------------------------------------------------------------------
# Teams: one skill each. velocity = story points per person-week of that team.
# ------------------------------------------------------------------------------------------
TEAMS = [
    # team, skill, headcount, cost_per_pw (EUR), velocity (SP per pw)
    ("Core Services", "backend", 8, 4600, 1.20),
    ("Web Experience", "frontend", 5, 4300, 1.30),
    ("Mobile", "mobile", 3, 4500, 1.10),
    ("Data & Analytics", "data", 3, 5200, 1.00),
    ("UX Design", "ux", 2, 4100, 1.40),
    ("QA & Platform", "qa", 4, 3900, 1.50),
]
SKILL_LABEL = {"backend": "Backend", "frontend": "Frontend", "mobile": "Mobile", "data": "Data", "ux": "UX", "qa": "QA"}

# Skill splits (percent) by kind of work.
PROFILES = {
    "be": {"backend": 65, "frontend": 10, "qa": 25},
    "be+web": {"backend": 40, "frontend": 35, "ux": 10, "qa": 15},
    "web": {"frontend": 55, "ux": 20, "backend": 10, "qa": 15},
    "data": {"data": 60, "backend": 25, "qa": 15},
    "data+web": {"data": 40, "frontend": 30, "backend": 15, "qa": 15},
    "ops": {"backend": 45, "qa": 55},
    "mob": {"mobile": 60, "backend": 15, "ux": 10, "qa": 15},
    "mob+be": {"mobile": 40, "backend": 35, "qa": 25},
    "mob+data": {"mobile": 35, "data": 40, "qa": 25},
    "ux": {"ux": 45, "frontend": 40, "qa": 15},
    "mob+ux": {"mobile": 45, "ux": 40, "qa": 15},
    "sec": {"backend": 50, "frontend": 15, "qa": 35},
    "gdpr": {"backend": 50, "frontend": 30, "qa": 20},
}

PRODUCTS = {
    "IOT": "IoT Platform",
    "PORTAL": "Customer Portal",
    "FIELD": "Field Service App",
}
STRATEGY_PROJECT = ("STRAT", "Portfolio Strategy")

# ------------------------------------------------------------------------------------------
# Initiatives (Jira issue type "Initiative" in project STRAT): summary, theme, objective.
# ------------------------------------------------------------------------------------------
INITIATIVES = [
    ("Predictive Maintenance as a Service", "Transform", "O1"),
    ("Platform reliability and operating cost", "Run", "O4"),
    ("Self-service first: customers solve it in the portal", "Grow", "O2"),
    ("Field service: offline, fast and paperless", "Grow", "O3"),
    ("Regulatory compliance 2027 (DSGVO, NIS2, CRA, E-Rechnung)", "Run", "O4"),
    ("Data products and analytics monetisation", "Transform", "O1"),
    ("Frictionless onboarding for new customers", "Grow", "O2"),
    ("Cloud migration and cost efficiency", "Run", "O4"),
    ("Open partner ecosystem: APIs and marketplace", "Transform", "O1"),
    ("One Keller design system", "Grow", "O2"),
    ("AI assistance for service technicians", "Transform", "O3"),
]

# ------------------------------------------------------------------------------------------
# Epics: product | initiative (1-based, 0 = none) | summary | skill profile | KPI | flags
# flags: must/could/wont, due=<date>, status=ip|done, label=<x>, theme=<t>, diff, parity,
#        alt=<group>, nosplit (components name the skills instead), sp=<n>, okr=<KR>, up=<uplift>
# ------------------------------------------------------------------------------------------
EPICS = """
IOT|1|Anomaly detection on vibration sensor streams|data|arpu|status=ip,diff,sp=55
IOT|1|Remaining-useful-life model for spindle bearings|data|arpu|diff
IOT|1|Predictive maintenance dashboard for plant managers|data+web|arpu|diff
IOT|1|Alarm rules engine with configurable thresholds|be|churn_rate|
IOT|1|Maintenance work order hand-over to SAP PM|be|arpu|label=customer-request
IOT|1|Model monitoring and retraining pipeline|data|churn_rate|label=tech-debt
IOT|1|Edge inference on Keller gateway KG-400|be|arpu|diff
IOT|1|Digital twin viewer (3D machine model)|web|conversion_rate|diff,could
IOT|1|Predictive maintenance pilot with three lighthouse customers|be+web|conversion_rate|theme=Grow
IOT|2|MQTT broker cluster upgrade (EMQX 5)|ops|churn_rate|must,status=ip,sp=40
IOT|2|Zero-downtime deployments for the device registry|ops|churn_rate|
IOT|2|Time-series storage retention tiers|be|cost|up=6500
IOT|2|Observability: tracing and SLO alerting|ops|churn_rate|status=done,sp=21
IOT|2|Device firmware OTA rollback safety|be|churn_rate|
IOT|2|Load test suite for 50k connected devices|ops|none|status=done,sp=13
IOT|2|Tenant isolation hardening|sec|churn_rate|label=security
IOT|2|Alarm escalation via SMS and Microsoft Teams|be|churn_rate|
IOT|6|Energy consumption benchmark per machine type|data|arpu|diff
IOT|6|OEE analytics add-on|data+web|arpu|diff
IOT|6|Data export API (Parquet and Delta Sharing)|be|arpu|
IOT|6|Customer-facing report builder|data+web|arpu|could
IOT|6|Anonymised fleet benchmarks across customers|data|arpu|diff,could
IOT|6|Build: own time-series analytics engine|data|arpu|alt=time-series-engine,sp=89,diff
IOT|6|Buy: managed time-series analytics service (Azure Data Explorer)|be|arpu|alt=time-series-engine,sp=34
IOT|6|Usage-based billing metering|be|arpu|
IOT|8|Move device registry from VMs to managed Kubernetes|ops|cost|status=ip,up=9000,sp=55
IOT|8|Replace self-hosted PostgreSQL with a managed service|be|cost|up=4500
IOT|8|Right-size time-series cluster and reserved instances|ops|cost|up=12000,label=quick-win,sp=13
IOT|8|Decommission legacy data centre Ludwigsburg|ops|cost|up=28000
IOT|9|Public REST API v2 with OAuth client credentials|be|conversion_rate|label=partner
IOT|9|Webhooks for device and alarm events|be|conversion_rate|label=partner
IOT|9|Partner app marketplace (MVP)|be+web|arpu|diff,label=partner
IOT|9|OPC UA connector for third-party PLCs|be|mau|
IOT|9|Modbus TCP and Siemens S7 connector pack|be|mau|
IOT|9|Developer portal with sandbox tenants|web|conversion_rate|label=partner,could
IOT|10|IoT console migration to the Keller design system|ux|nps|
IOT|5|NIS2: security incident reporting workflow|sec|none|must,due=30/Sep/27 05:00 PM,label=regulatory,okr=KR-4.2
IOT|5|Cyber Resilience Act: SBOM and vulnerability handling for gateway firmware|sec|none|must,due=30/Nov/27 05:00 PM,label=regulatory,okr=KR-4.2
IOT|5|IEC 62443-4-1 secure development lifecycle evidence|ops|none|label=security
IOT|5|Audit log for all configuration changes|be|none|must,label=security,okr=KR-4.2
IOT|7|Self-service tenant provisioning|be+web|conversion_rate|
IOT|7|Guided device onboarding wizard (QR code)|web|conversion_rate|label=quick-win,sp=13
IOT|7|Trial tenants with sample data|be+web|conversion_rate|could
IOT|0|Multi-site hierarchy (plant, line, machine)|be+web|arpu|theme=Grow
IOT|0|Role-based access with customer-defined roles|be+web|churn_rate|theme=Run
IOT|0|Shift handover notes in the console|web|mau|could
IOT|0|Dark mode for the IoT console|web|nps|wont
IOT|6|Carbon footprint report per production line (CSRD)|data+web|arpu|diff
IOT|10|Console onboarding tour and contextual help|ux|conversion_rate|could
IOT|1|Spare part demand forecast from machine telemetry|data|arpu|diff,could
IOT|7|Customer success health score in the console|data+web|churn_rate|
IOT|0|Mobile push for critical machine alarms|mob+be|churn_rate|theme=Grow
PORTAL|3|Spare parts shop with live availability|be+web|conversion_rate|status=ip,sp=55
PORTAL|3|Order tracking with carrier integration (DHL, DB Schenker)|be+web|nps|
PORTAL|3|Service ticket self-service with photo upload|web|cost|up=8500
PORTAL|3|Knowledge base with machine-specific manuals|web|cost|up=6000
PORTAL|3|Invoice and delivery note download|web|nps|status=done,sp=13
PORTAL|3|Contract and warranty overview|web|conversion_rate|
PORTAL|3|Quote requests for retrofits|be+web|conversion_rate|
PORTAL|3|Saved carts and reorder from order history|web|conversion_rate|label=quick-win,sp=8
PORTAL|3|Customer-specific price lists from SAP SD|be|conversion_rate|
PORTAL|3|Punch-out catalogue (OCI and cXML) for procurement systems|be|conversion_rate|diff
PORTAL|3|Service appointment booking|be+web|nps|
PORTAL|3|Portal search across parts, manuals and tickets|be+web|mau|
PORTAL|3|Build: headless commerce on own microservices|be+web|conversion_rate|alt=commerce-platform,sp=100
PORTAL|3|Buy: commercetools as commerce backend|be|conversion_rate|alt=commerce-platform,sp=40
PORTAL|7|Self-registration with company verification (USt-IdNr.)|be+web|mau|status=ip,sp=21
PORTAL|7|Single sign-on with customer Entra ID (Azure AD)|be|mau|
PORTAL|7|Invite colleagues and manage company users|web|mau|
PORTAL|7|Onboarding checklist and product tour|ux|conversion_rate|could
PORTAL|10|Keller design system: component library v1|ux|nps|status=done,sp=34
PORTAL|10|Portal redesign on the design system|ux|nps|
PORTAL|10|Accessibility (WCAG 2.1 AA) for the portal|web|nps|label=accessibility
PORTAL|10|Mobile-friendly portal layouts|web|mau|
PORTAL|5|DSGVO: Löschkonzept und Auskunftsprozess|gdpr|none|must,due=30/Jun/27 05:00 PM,label=regulatory,sp=34,okr=KR-4.2
PORTAL|5|E-Rechnung: XRechnung und ZUGFeRD im Portal|be+web|none|must,due=31/Dec/27 05:00 PM,label=regulatory,okr=KR-4.2
PORTAL|5|Cookie consent and tracking opt-in rework (TDDDG)|web|none|must,label=regulatory
PORTAL|5|Two-factor authentication for portal users|sec|churn_rate|must,label=security
PORTAL|8|CDN and image optimisation|web|cost|up=2500,label=quick-win,sp=8
PORTAL|8|Retire the legacy PHP customer area|be+web|cost|up=7500,label=tech-debt
PORTAL|6|Portal analytics: funnel and cohort dashboards|data|conversion_rate|
PORTAL|6|Product recommendations ("customers also ordered")|data+web|conversion_rate|diff
PORTAL|6|Churn early-warning score for key accounts|data|churn_rate|diff
PORTAL|9|Dealer portal for distribution partners|be+web|mau|label=partner
PORTAL|9|Partner API for order status|be|mau|label=partner,could
PORTAL|11|AI answer assistant over manuals (RAG)|data+web|cost|diff,up=11000,label=ai
PORTAL|0|Multilingual portal (EN, FR, IT, PL)|web|mau|theme=Grow
PORTAL|0|Payment by SEPA direct debit and credit card|be+web|conversion_rate|theme=Grow
PORTAL|0|Newsletter and notification preferences|web|mau|could,theme=Grow
PORTAL|0|Customer feedback widget and NPS survey|web|nps|theme=Grow,label=quick-win,sp=8
PORTAL|0|Portal performance: Core Web Vitals on target|web|conversion_rate|theme=Run
PORTAL|0|Subscription for consumables (auto-replenishment)|be+web|arpu|theme=Transform,diff
PORTAL|0|Live chat with the service desk|web|nps|wont,theme=Grow
PORTAL|3|Returns and complaints (RMA) online|web|cost|up=5000
PORTAL|10|Design tokens and theming for customer brands|ux|nps|could
PORTAL|6|Self-service usage reports for key accounts|data+web|churn_rate|
PORTAL|7|Company profile with sites and installed machines|web|mau|
PORTAL|11|Guided troubleshooting before a ticket is opened|data+web|cost|up=7000,label=ai
PORTAL|0|Portal app for iOS and Android (wrapper)|mob|mau|could,theme=Grow
FIELD|4|Offline mode for work orders|mob|nps|status=ip,sp=55
FIELD|4|Conflict-free sync after offline work|mob+be|churn_rate|
FIELD|4|Digital service report with customer signature|mob|cost|up=9500
FIELD|4|Barcode and QR scan of spare parts|mob|cost|status=done,sp=13,up=3000
FIELD|4|Time and material booking to SAP CS|mob+be|cost|up=7000
FIELD|4|Route planning for daily jobs|mob+data|cost|up=8000
FIELD|4|Photo documentation with annotations|mob|nps|nosplit
FIELD|4|Push notifications for urgent jobs|mob+be|nps|status=done,sp=13
FIELD|4|Van stock management|mob+be|cost|up=5500
FIELD|4|Configurable checklists per machine type|mob|nps|nosplit
FIELD|4|Technician availability calendar|web|mau|
FIELD|4|iPad layout for supervisors|mob|mau|could,nosplit
FIELD|4|Build: job scheduling optimiser|mob+data|cost|alt=job-scheduling,sp=89,up=15000,diff
FIELD|4|Buy: integrate a field-service scheduling SaaS|mob+be|cost|alt=job-scheduling,sp=34,up=11000
FIELD|11|AI troubleshooting assistant for technicians|mob+data|nps|diff,label=ai
FIELD|11|Voice input for service reports|mob+data|cost|diff,up=6500,label=ai,could
FIELD|11|Spare part recognition from photos|mob+data|cost|diff,up=4000,label=ai,could
FIELD|11|Fault code explanations from IoT alarms in the app|mob+be|nps|diff
FIELD|1|Predictive maintenance jobs pushed to the app|mob+be|churn_rate|diff
FIELD|10|Field app migration to the Keller design system|mob|nps|nosplit
FIELD|2|Crash-free sessions above 99.5 %|mob|churn_rate|must
FIELD|2|Upgrade to the React Native new architecture|mob|none|label=tech-debt
FIELD|2|Automated UI tests on a device farm|ops|none|label=tech-debt,could
FIELD|2|App start time below two seconds|mob|nps|nosplit
FIELD|5|Arbeitszeiterfassung: working time recording for technicians|mob+be|none|must,due=30/Sep/27 05:00 PM,label=regulatory,okr=KR-4.2
FIELD|5|Lone worker safety check-in|mob|nps|label=security
FIELD|7|Self-service onboarding for subcontractor technicians|web|mau|
FIELD|7|In-app training videos|mob|nps|could,nosplit
FIELD|9|Subcontractor access with limited rights|mob+be|mau|label=partner
FIELD|9|Customer SMS: technician on the way|be|nps|label=quick-win,sp=8
FIELD|0|Multi-language app (EN, FR, PL, CS)|mob|mau|theme=Grow,nosplit
FIELD|0|Expense capture with receipt scan|mob|cost|theme=Run,up=3500
FIELD|0|Team lead dashboard: first-time fix rate|data+web|cost|theme=Grow,up=4500
FIELD|0|Knowledge base access offline|mob|nps|theme=Grow
FIELD|0|Apple Watch notifications|mob|nps|wont
FIELD|4|Digital handover protocol for commissioning|mob|nps|
FIELD|4|Order spare parts from the app in the portal shop|mob+be|cost|up=3000
FIELD|10|Large-touch mode for work with gloves|mob+ux|nps|could
FIELD|1|Machine history and sensor trends on site|mob+data|churn_rate|diff
FIELD|9|Customer self-booking of maintenance slots|web|nps|
FIELD|0|Tablet mode for workshop technicians|mob|mau|could,theme=Grow
"""

# (dependent summary, prerequisite summary): the dependent waits for the prerequisite.
DEPENDENCIES = [
    ("Remaining-useful-life model for spindle bearings", "Anomaly detection on vibration sensor streams"),
    ("Predictive maintenance dashboard for plant managers", "Remaining-useful-life model for spindle bearings"),
    ("Edge inference on Keller gateway KG-400", "Anomaly detection on vibration sensor streams"),
    ("Predictive maintenance jobs pushed to the app", "Anomaly detection on vibration sensor streams"),
    ("Partner app marketplace (MVP)", "Public REST API v2 with OAuth client credentials"),
    ("Webhooks for device and alarm events", "Public REST API v2 with OAuth client credentials"),
    ("Developer portal with sandbox tenants", "Public REST API v2 with OAuth client credentials"),
    ("Developer portal with sandbox tenants", "Self-service tenant provisioning"),
    ("Decommission legacy data centre Ludwigsburg", "Move device registry from VMs to managed Kubernetes"),
    ("Decommission legacy data centre Ludwigsburg", "Replace self-hosted PostgreSQL with a managed service"),
    ("Portal redesign on the design system", "Keller design system: component library v1"),
    ("Field app migration to the Keller design system", "Keller design system: component library v1"),
    ("Conflict-free sync after offline work", "Offline mode for work orders"),
    ("Knowledge base access offline", "Knowledge base with machine-specific manuals"),
    ("AI answer assistant over manuals (RAG)", "Knowledge base with machine-specific manuals"),
    ("AI troubleshooting assistant for technicians", "AI answer assistant over manuals (RAG)"),
    ("Fault code explanations from IoT alarms in the app", "Alarm rules engine with configurable thresholds"),
    ('Product recommendations ("customers also ordered")', "Portal analytics: funnel and cohort dashboards"),
    ("Subscription for consumables (auto-replenishment)", "Spare parts shop with live availability"),
    ("Subscription for consumables (auto-replenishment)", "Payment by SEPA direct debit and credit card"),
    ("E-Rechnung: XRechnung und ZUGFeRD im Portal", "Invoice and delivery note download"),
    ("Dealer portal for distribution partners", "Customer-specific price lists from SAP SD"),
    ("Time and material booking to SAP CS", "Digital service report with customer signature"),
    ("Team lead dashboard: first-time fix rate", "Digital service report with customer signature"),
]
# A link to an issue in a project that is not part of the export (the security team's board).
EXTERNAL_BLOCKERS = [("NIS2: security incident reporting workflow", "SEC-14")]
RELATES = [
    ("Spare part recognition from photos", "Barcode and QR scan of spare parts"),
    ("Churn early-warning score for key accounts", "Portal analytics: funnel and cohort dashboards"),
]

COMPONENTS = {
    "IOT": ["Device Registry", "Connectivity", "Analytics", "Console", "Rules Engine", "Edge"],
    "PORTAL": ["Shop", "Tickets", "Accounts", "Content", "Billing"],
    "FIELD": ["Work Orders", "Sync", "Scheduling", "Reports"],
}
STORY_POINTS = np.array([8, 13, 21, 34, 40, 55, 89, 100])
SP_WEIGHTS = np.array([0.08, 0.17, 0.22, 0.2, 0.1, 0.12, 0.07, 0.04])
FIBONACCI = np.array([1, 2, 3, 5, 8, 13, 20])
UPLIFT_RANGE = {  # relative change (fraction) drawn uniformly, rounded to half a percent
    "conversion_rate": (0.02, 0.12),
    "churn_rate": (-0.15, -0.03),
    "arpu": (0.01, 0.08),
    "mau": (0.02, 0.15),
    "nps": (0.02, 0.10),
}
REACH_RANGE = {"IOT": (40, 400), "PORTAL": (500, 9000), "FIELD": (200, 2500)}
KPI_LABEL = {
    "conversion_rate": "Conversion Rate",
    "churn_rate": "Churn Rate",
    "arpu": "ARPU",
    "mau": "MAU",
    "cost": "Cost",
    "nps": "NPS",
    "none": "",
}
OKR_FOR = {  # (product, kpi) -> key result
    ("IOT", "arpu"): "KR-1.2",
    ("IOT", "conversion_rate"): "KR-1.1",
    ("IOT", "mau"): "KR-1.1",
    ("IOT", "churn_rate"): "KR-3.1",
    ("PORTAL", "mau"): "KR-2.1",
    ("PORTAL", "conversion_rate"): "KR-2.2",
    ("PORTAL", "nps"): "KR-2.3",
    ("FIELD", "mau"): "KR-3.2",
    ("FIELD", "nps"): "KR-3.3",
    ("IOT", "cost"): "KR-4.1",
    ("PORTAL", "cost"): "KR-4.1",
    ("FIELD", "cost"): "KR-4.1",
}


@dataclass
class Issue:
    summary: str
    key: str
    issue_id: int
    issue_type: str
    project: str
    project_name: str
    status: str
    category: str
    priority: str
    created: datetime
    updated: datetime
    resolved: datetime | None = None
    due: str = ""
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    sprints: list[str] = field(default_factory=list)
    parent: Issue | None = None
    custom: dict[str, str] = field(default_factory=dict)
    blocked_by: list[str] = field(default_factory=list)  # keys this issue waits for
    blocks: list[str] = field(default_factory=list)  # keys waiting for this issue
    relates: list[str] = field(default_factory=list)
    description: str = ""


def jira_date(d: datetime) -> str:
    """Jira's export format: 11/May/24 03:26 PM."""
    return d.strftime("%d/%b/%y %I:%M %p")


def _parse_epics() -> list[dict]:
    epics = []
    for line in EPICS.strip().splitlines():
        product, initiative, summary, profile, kpi, flags = line.split("|")
        spec = {
            "product": product,
            "initiative": int(initiative),
            "summary": summary,
            "profile": profile,
            "kpi": kpi,
            "flags": {},
        }
        for flag in filter(None, flags.split(",")):
            name, _, value = flag.partition("=")
            spec["flags"][name] = value or True
        epics.append(spec)
    return epics


def _random_datetime(rng: np.random.Generator, start: datetime, end: datetime) -> datetime:
    span_minutes = int((end - start).total_seconds() // 60)
    moment = start + timedelta(minutes=int(rng.integers(0, span_minutes)))
    # office hours, whole minutes
    return moment.replace(hour=int(rng.integers(7, 18)), minute=int(rng.integers(0, 60)))


def build_issues(rng: np.random.Generator) -> list[Issue]:
    """Initiatives and epics with all their fields, links and descriptions."""
    issues: list[Issue] = []
    next_id = iter(range(10001, 99999))
    initiatives = []
    for number, (summary, theme, objective) in enumerate(INITIATIVES, start=1):
        created = _random_datetime(rng, datetime(2024, 10, 1), datetime(2025, 3, 31))
        issue = Issue(
            summary=summary,
            key=f"STRAT-{number}",
            issue_id=next(next_id),
            issue_type="Initiative",
            project=STRATEGY_PROJECT[0],
            project_name=STRATEGY_PROJECT[1],
            status="In Progress",
            category="In Progress",
            priority="High",
            created=created,
            updated=_random_datetime(rng, datetime(2026, 9, 1), datetime(2026, 12, 15)),
            custom={"Strategic Theme": theme, "OKR": "", "MoSCoW": ""},
            description=f"Strategic initiative for the 2027-2028 portfolio.\nObjective: {objective}.",
        )
        initiatives.append(issue)
        issues.append(issue)

    epics = _parse_epics()
    counters = {p: int(rng.integers(10, 40)) for p in PRODUCTS}
    by_summary: dict[str, Issue] = {}
    for spec in epics:
        product, flags = spec["product"], spec["flags"]
        counters[product] += int(rng.integers(1, 18))
        key = f"{product}-{counters[product]}"
        sp = int(flags["sp"]) if "sp" in flags else int(rng.choice(STORY_POINTS, p=SP_WEIGHTS))
        parent = initiatives[spec["initiative"] - 1] if spec["initiative"] else None
        theme = flags.get("theme") or (parent.custom["Strategic Theme"] if parent else "")
        status = {"ip": ("In Progress", "In Progress"), "done": ("Done", "Done")}.get(
            flags.get("status", ""), ("To Do", "To Do")
        )
        if status[0] == "To Do" and rng.random() < 0.35:
            status = ("Selected for Development", "To Do")
        moscow = (
            "Must" if "must" in flags else "Could" if "could" in flags else "Won't" if "wont" in flags else "Should"
        )
        priority = {
            "Must": "Highest",
            "Should": str(rng.choice(["High", "Medium"])),
            "Could": str(rng.choice(["Medium", "Low"])),
            "Won't": "Lowest",
        }[moscow]
        created = _random_datetime(rng, datetime(2025, 1, 15), datetime(2026, 11, 20))
        updated = min(created + timedelta(days=int(rng.integers(5, 300))), datetime(2026, 12, 18))
        resolved = updated if status[1] == "Done" else None
        kpi = spec["kpi"]
        uplift = ""
        if kpi == "cost":
            uplift = str(int(flags.get("up", 5000)))
        elif kpi in UPLIFT_RANGE:
            low, high = UPLIFT_RANGE[kpi]
            value = round(float(rng.uniform(low, high)) * 200) / 2  # percent, half-point steps
            uplift = f"{value:+.1f}%".replace(".0%", "%")
        is_run = theme == "Run"
        transform = theme == "Transform"
        differentiation = (
            "Differentiator" if "diff" in flags or (not is_run and not transform and rng.random() < 0.25) else "Parity"
        )
        impact = float(rng.choice([0.25, 0.5, 1, 2, 3], p=[0.1, 0.25, 0.35, 0.2, 0.1]))
        confidence = str(rng.choice(["50%", "80%", "100%"], p=[0.3, 0.5, 0.2]))
        bv, tc, rr = (int(v) for v in rng.choice(FIBONACCI, size=3))
        if moscow == "Must":
            tc, rr = int(rng.choice([13, 20])), int(rng.choice([8, 13, 20]))
        low, high = REACH_RANGE[product]
        reach = int(round(float(rng.uniform(low, high)), -1))
        duration = 1 if sp <= 21 else (2 if sp <= 55 else 3)
        if sp in (34, 40) and rng.random() < 0.3:
            duration = 1
        okr = flags.get("okr") or OKR_FOR.get((product, kpi), "")
        labels = [flags["label"]] if "label" in flags else []
        if moscow == "Must" and "regulatory" not in labels and rng.random() < 0.5:
            labels.append("committed")
        if status[1] != "Done" and moscow in ("Must", "Should"):
            labels.append("roadmap-2027-28")  # the planning label teams put on this round's candidates
        area = [str(rng.choice(COMPONENTS[product]))]
        split = PROFILES[spec["profile"]]
        split_text = ", ".join(f"{SKILL_LABEL[s]} {share}%" for s, share in split.items())
        if "nosplit" in flags:  # the team writes the skills as components instead
            area += [SKILL_LABEL[s] for s in split]
            split_text = ""
        sprints = []
        if status[1] != "To Do":
            last = int(rng.integers(18, 25))
            sprints = [f"{product} Sprint 26.{n}" for n in (last - 1, last)]
        custom = {
            "Reach": str(reach),
            "Impact": f"{impact:g}",
            "Confidence": confidence,
            "Business Value": str(bv),
            "Time Criticality": str(tc),
            "Risk Reduction": str(rr),
            "MoSCoW": moscow,
            "Strategic Theme": "" if (parent and "theme" not in flags and rng.random() < 0.6) else theme,
            "KPI": KPI_LABEL[kpi],
            "KPI Uplift": uplift,
            "Differentiation": differentiation,
            "OKR": okr,
            "Skill Split": split_text,
            "Duration Quarters": str(duration),
            "Alternative Group": flags.get("alt", ""),
        }
        issue = Issue(
            summary=spec["summary"],
            key=key,
            issue_id=next(next_id),
            issue_type="Epic",
            project=product,
            project_name=PRODUCTS[product],
            status=status[0],
            category=status[1],
            priority=priority,
            created=created,
            updated=updated,
            resolved=resolved,
            due=flags.get("due", ""),
            labels=labels,
            components=area,
            sprints=sprints,
            parent=parent,
            custom=custom,
        )
        issue.custom["Story Points"] = str(sp)
        issue.description = _description(issue, spec, moscow)
        by_summary[issue.summary] = issue
        issues.append(issue)

    for dependent, prerequisite in DEPENDENCIES:
        by_summary[dependent].blocked_by.append(by_summary[prerequisite].key)
        by_summary[prerequisite].blocks.append(by_summary[dependent].key)
    for dependent, external in EXTERNAL_BLOCKERS:
        by_summary[dependent].blocked_by.append(external)
    for a, b in RELATES:
        by_summary[a].relates.append(by_summary[b].key)
    return issues


def _description(issue: Issue, spec: dict, moscow: str) -> str:
    lines = [f"h3. Goal\n{issue.summary} for {PRODUCTS[spec['product']]} customers."]
    if spec["kpi"] != "none":
        lines.append(f'h3. Expected effect\nMoves {KPI_LABEL[spec["kpi"]]}; see "KPI Uplift".')
    if moscow == "Must":
        lines.append("h3. Why it is a Must\nLegal, contractual or operational commitment; not optional.")
    lines.append("h3. Done when\n* released to all tenants\n* documented, monitored, handed over to support")
    return "\n".join(lines)


def write_backlog(issues: list[Issue], path: Path) -> None:
    """The Jira 'Export CSV (all fields)' layout, repeated columns for multi-valued fields."""
    n_labels = max(len(i.labels) for i in issues)
    n_components = max(len(i.components) for i in issues)
    n_sprints = max(len(i.sprints) for i in issues)
    n_inward = max(len(i.blocked_by) for i in issues)
    n_outward = max(len(i.blocks) for i in issues)
    custom_fields = [
        "Story Points",
        "Reach",
        "Impact",
        "Confidence",
        "Business Value",
        "Time Criticality",
        "Risk Reduction",
        "MoSCoW",
        "Strategic Theme",
        "KPI",
        "KPI Uplift",
        "Differentiation",
        "OKR",
        "Skill Split",
        "Duration Quarters",
        "Alternative Group",
    ]
    header = (
        [
            "Summary",
            "Issue key",
            "Issue id",
            "Issue Type",
            "Status",
            "Status Category",
            "Project key",
            "Project name",
            "Project type",
            "Priority",
            "Resolution",
            "Created",
            "Updated",
            "Resolved",
            "Due Date",
        ]
        + ["Labels"] * n_labels
        + ["Component/s"] * n_components
        + ["Sprint"] * n_sprints
        + ["Parent", "Parent id", "Parent summary", "Original Estimate"]
        + [f"Custom field ({name})" for name in custom_fields]
        + ["Inward issue link (Blocks)"] * n_inward
        + ["Outward issue link (Blocks)"] * n_outward
        + ["Inward issue link (Relates)", "Outward issue link (Relates)", "Description"]
    )

    def padded(values: list[str], n: int) -> list[str]:
        return values + [""] * (n - len(values))

    relates_in: dict[str, list[str]] = {}
    for issue in issues:
        for other in issue.relates:
            relates_in.setdefault(other, []).append(issue.key)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for i in sorted(issues, key=lambda x: (x.project != "STRAT", x.project, int(x.key.split("-")[1]))):
        writer.writerow(
            [
                i.summary,
                i.key,
                i.issue_id,
                i.issue_type,
                i.status,
                i.category,
                i.project,
                i.project_name,
                "software",
                i.priority,
                "Done" if i.resolved else "",
                jira_date(i.created),
                jira_date(i.updated),
                jira_date(i.resolved) if i.resolved else "",
                i.due,
            ]
            + padded(i.labels, n_labels)
            + padded(i.components, n_components)
            + padded(i.sprints, n_sprints)
            + ([i.parent.key, i.parent.issue_id, i.parent.summary] if i.parent else ["", "", ""])
            + [""]
            + [i.custom.get(name, "") for name in custom_fields]
            + padded(i.blocked_by, n_inward)
            + padded(i.blocks, n_outward)
            + [(i.relates or [""])[0], (relates_in.get(i.key) or [""])[0], i.description]
        )
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def write_teams(path: Path) -> None:
    rows = ["team,skill,headcount,capacity_pw,cost_per_pw,velocity_sp_per_pw"]
    for team, skill, headcount, cost, velocity in TEAMS:
        rows.append(f"{team},{skill},{headcount},{headcount * PRODUCTIVE_WEEKS_PER_QUARTER},{cost},{velocity:.2f}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8", newline="")


# ------------------------------------------------------------------------------------------
# KPIs: users evolve as mau[t] = mau[t-1] + new[t] - churned[t]; paying = mau * conversion;
# mrr = paying * arpu (EUR per paying customer and month).
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KpiModel:
    product: str
    mau0: float
    new_rate: float  # new users per month as a share of last month's MAU
    churn0: float  # monthly churn rate at the start
    churn1: float  # ... and at the end of the 36 months
    stickiness: float  # DAU / MAU
    conversion0: float
    conversion1: float
    arpu0: float  # EUR per paying customer and month
    price_rise: float  # yearly list price increase each January
    nps0: float
    nps1: float
    cac: float  # EUR per new paying customer
    season: tuple[float, ...]  # 12 monthly factors on new users (Jan..Dec)


KPI_MODELS = [
    KpiModel(
        "IoT Platform",
        3200,
        0.026,
        0.012,
        0.009,
        0.42,
        0.056,
        0.058,
        2400,
        0.035,
        27,
        33,
        14000,
        (1.1, 1.05, 1.1, 1.0, 1.0, 0.95, 0.9, 0.7, 1.0, 1.1, 1.1, 0.8),
    ),
    KpiModel(
        "Customer Portal",
        6500,
        0.052,
        0.036,
        0.034,
        0.11,
        0.060,
        0.072,
        210,
        0.03,
        12,
        21,
        180,
        (1.05, 1.0, 1.15, 1.05, 1.0, 0.95, 0.9, 0.75, 1.05, 1.15, 1.05, 0.8),
    ),
    KpiModel(
        "Field Service App",
        850,
        0.045,
        0.022,
        0.018,
        0.63,
        0.78,
        0.83,
        49,
        0.04,
        35,
        44,
        950,
        (0.9, 0.95, 1.2, 1.25, 1.1, 1.0, 0.85, 0.75, 1.15, 1.2, 1.0, 0.7),
    ),
]
KPI_MONTHS = 36
KPI_START = (2024, 1)


def kpi_rows(rng: np.random.Generator) -> list[dict]:
    rows = []
    for m in KPI_MODELS:
        mau = m.mau0
        for t in range(KPI_MONTHS):
            year, month = KPI_START[0] + t // 12, t % 12 + 1
            share = t / (KPI_MONTHS - 1)
            churn_rate = m.churn0 + (m.churn1 - m.churn0) * share
            new = max(0, round(mau * m.new_rate * m.season[month - 1] * rng.lognormal(0, 0.08)))
            churned = min(int(mau), int(rng.binomial(int(mau), churn_rate)))
            mau = int(mau) + new - churned
            conversion = (m.conversion0 + (m.conversion1 - m.conversion0) * share) * rng.lognormal(0, 0.02)
            paying = round(mau * conversion)
            arpu = m.arpu0 * (1 + m.price_rise) ** (t // 12) * rng.lognormal(0, 0.01)
            nps = m.nps0 + (m.nps1 - m.nps0) * share + rng.normal(0, 2.5)
            rows.append(
                {
                    "product": m.product,
                    "month": f"{year:04d}-{month:02d}-01",
                    "mau": mau,
                    "dau": round(mau * m.stickiness * rng.lognormal(0, 0.03)),
                    "new_users": new,
                    "churned_users": churned,
                    "conversion_rate": f"{paying / mau:.4f}",
                    "arpu": f"{arpu:.2f}",
                    "mrr": f"{paying * round(arpu, 2):.2f}",
                    "nps": f"{nps:.1f}",
                    "cac": f"{m.cac * rng.lognormal(0, 0.1):.0f}",
                }
            )
    return rows


# What real KPI exports get wrong, placed in 2025 so that the baselines (last three months) and
# trends (last twelve) are untouched; the KPI baselines find and report each of them.
EXPORT_FLAWS = (
    ("Customer Portal", "2025-03-01", None, "row missing (export gap)"),
    ("Field Service App", "2025-09-01", "nps", ""),  # survey not run that month
    ("IoT Platform", "2025-06-01", "mrr", "x100"),  # entered in cents
)


def with_export_flaws(rows: list[dict]) -> list[dict]:
    """The KPI rows as the export delivers them: one month missing, one blank cell, one outlier."""
    flaws = {(product, month): (column, what) for product, month, column, what in EXPORT_FLAWS}
    out = []
    for r in rows:
        flaw = flaws.get((r["product"], r["month"]))
        if flaw is None:
            out.append(r)
        elif flaw[0] is not None:  # a row without a column is dropped (the export gap)
            column, what = flaw
            out.append({**r, column: f"{float(r[column]) * 100:.2f}" if what == "x100" else what})
    return out


def write_kpis(rows: list[dict], path: Path) -> None:
    columns = list(rows[0])
    lines = [",".join(columns)] + [",".join(str(r[c]) for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")


def write_okrs(kpis: list[dict], path: Path) -> None:
    """Key results with baselines taken from the last month (3-month mean for churn)."""
    last = {r["product"]: r for r in kpis if r["month"] == "2026-12-01"}
    iot = [r for r in kpis if r["product"] == "IoT Platform"]
    churn = np.mean([iot[t]["churned_users"] / iot[t - 1]["mau"] for t in range(len(iot) - 3, len(iot))])
    objectives = {
        "O1": "Grow recurring revenue from the IoT platform",
        "O2": "Make the customer portal the first place customers go",
        "O3": "Keep customers and technicians with us",
        "O4": "Run efficiently and compliantly",
    }
    mrr = float(last["IoT Platform"]["mrr"])
    arpu = float(last["IoT Platform"]["arpu"])
    portal_mau = last["Customer Portal"]["mau"]
    portal_conv = float(last["Customer Portal"]["conversion_rate"])
    field_mau = last["Field Service App"]["mau"]
    krs = [
        (
            "O1",
            "KR-1.1",
            "Raise IoT platform MRR by 25 %",
            "IoT Platform",
            "mrr",
            round(mrr, -3),
            round(mrr * 1.25, -3),
            0.15,
        ),
        (
            "O1",
            "KR-1.2",
            "Raise IoT ARPU by 10 % through add-ons",
            "IoT Platform",
            "arpu",
            round(arpu),
            round(arpu * 1.10),
            0.10,
        ),
        (
            "O2",
            "KR-2.1",
            "Grow portal monthly active users by 30 %",
            "Customer Portal",
            "mau",
            portal_mau,
            round(portal_mau * 1.3, -2),
            0.15,
        ),
        (
            "O2",
            "KR-2.2",
            "Lift portal conversion by one percentage point",
            "Customer Portal",
            "conversion_rate",
            round(portal_conv, 4),
            round(portal_conv + 0.01, 4),
            0.10,
        ),
        (
            "O2",
            "KR-2.3",
            "Portal NPS of 30 or more",
            "Customer Portal",
            "nps",
            round(float(last["Customer Portal"]["nps"])),
            30,
            0.05,
        ),
        (
            "O3",
            "KR-3.1",
            "Cut IoT platform monthly churn to 0.7 %",
            "IoT Platform",
            "churn_rate",
            round(float(churn), 4),
            0.007,
            0.15,
        ),
        (
            "O3",
            "KR-3.2",
            "Grow field app monthly active technicians by 40 %",
            "Field Service App",
            "mau",
            field_mau,
            round(field_mau * 1.4, -2),
            0.10,
        ),
        (
            "O3",
            "KR-3.3",
            "Field app NPS of 50 or more",
            "Field Service App",
            "nps",
            round(float(last["Field Service App"]["nps"])),
            50,
            0.05,
        ),
        ("O4", "KR-4.1", "Save 60,000 EUR operating cost per month", "", "cost", 0, 60000, 0.10),
        (
            "O4",
            "KR-4.2",
            "Close every open compliance finding (DSGVO, NIS2, CRA)",
            "",
            "compliance_findings",
            9,
            0,
            0.05,
        ),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["objective", "key_result", "description", "product", "metric", "baseline", "target", "weight"])
    for objective, kr, description, product, metric, baseline, target, weight in krs:
        writer.writerow(
            [
                f"{objective} {objectives[objective]}",
                kr,
                description,
                product,
                metric,
                _plain(baseline),
                _plain(target),
                _plain(weight),
            ]
        )
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def _plain(number: float) -> str:
    """A number without exponent: 1027000 -> '1027000', 0.0738 -> '0.0738'."""
    return str(int(number)) if float(number).is_integer() else f"{number:.6f}".rstrip("0")


SETTINGS_YAML = """\
# Planning settings of the demo company (validated by models.settings.Settings).
# Money in EUR; periods are quarters numbered from 1 (Q1 2027).
company: Keller Industrie-Software GmbH
currency: EUR
start: 2027-01-01            # first day of period 1
periods: 8                   # plan eight quarters: Q1 2027 ... Q4 2028
period_months: 3
discount_rate: 0.08          # annual, for net present value
# Spend allowed per quarter (all teams' person-weeks x cost per person-week).
# Full use of every team costs about 1.22 M EUR a quarter, so the budget binds in the
# first half of 2027 (hiring freeze) and in 2028 Q1-Q2; the other quarters are capacity-bound.
budget_per_period: [850000, 850000, 1250000, 1250000, 1000000, 1000000, 1300000, 1300000]
budget_total: 8600000        # over all eight quarters, a little below the sum above (8.8 M)
value_horizon_months: 36     # benefits count up to this month after the plan start (NPV window)
commoditisation_per_year: 0.25  # yearly value decay of differentiators as competitors catch up
# Share of planned spend per strategic theme (fractions of the total).
strategic_balance:
  run:       {min: 0.15, max: 0.35}
  grow:      {min: 0.35, max: 0.60}
  transform: {min: 0.15, max: 0.35}
# Each key result gets at least one funded item that names it (column okr).
okr_coverage:
  min_items: 1
# At least two small items (at most 15 person-weeks) delivered in the first quarter.
quick_wins:
  min_items: 2
  max_effort_pw: 15
  by_period: 1
# At most 12 items in flight per team and quarter.
wip_limit:
  per_team: 12
in_progress: continue        # running work continues; may_stop lets the optimiser stop it
objective:
  net_of_cost: false         # true: maximise value minus cost
  risk_aversion: 0.0         # > 0: value - risk_aversion x spread (value range or confidence)
# Effort spent on explanations: re-solves per Must-have and near miss, and the frontier. A re-solve
# stops after 1 s: at 1.5 s its proven interval is 4 k EUR narrower on average (benchmarks/README.md).
explain:
  near_misses: 3
  time_limit_s: 1.0
  frontier_points: 6
# Weights of the weighted-scoring method (they need not add up to one).
scoring_weights:
  value: 0.35
  time_criticality: 0.2
  risk_reduction: 0.15
  confidence: 0.15
  effort: 0.15               # applied to effort as a penalty
# What the products earn and cost outside the backlog (KPI baselines, portfolio health).
economics:
  gross_margin: 0.8          # share of revenue left after hosting, support and licences
  run_cost_eur_per_month:    # operating each product outside the planned work
    IoT Platform: 180000
    Customer Portal: 90000
    Field Service App: 75000
  high_growth_per_year: 0.25 # MRR growth from which a product counts as growing fast
# An uplift is a hypothesis: how much of it an item realises, by its stated confidence
# (models/realisation.py; each default cites its source: about a third of ideas work).
realisation:
  enabled: true
# Where KPI levels saturate when delivered items combine in the simulation; products without
# their own value get a ceiling from the KPI history (x the best month on record).
kpi_limits:
  conversion_ceiling_factor: 1.5
  churn_floor_factor: 0.5
  potential_ceiling_factor: 1.5
# A plan whose median MRR path (baseline scenario) grows faster than max(1.25 x the best year
# on record, best year + 10 points) is flagged, naming the items that carry the excess.
plausibility:
  scenario: baseline
  max_growth_factor: 1.25
  min_headroom: 0.10
# The robust plan: optimised over 50 sampled futures of the items' values for the mean of the worst
# fifth blended half and half with the mean, compared with the recommended plan on 500 other futures
# (100 futures, the default, generalise better and take about 15 s more).
robust:
  objective: cvar
  alpha: 0.2
  cvar_weight: 0.5
  futures: 50
  held_out: 500
solver:
  name: highs
  time_limit_s: 30
  gap_rel: 0.01              # within 1 % of the best expected value: the estimates' own P10-P90 spans far more
  seed: 0
"""


def demand_summary(issues: list[Issue]) -> dict[str, tuple[float, float]]:
    """Open demand vs capacity over the horizon, in person-weeks per skill."""
    velocity = {skill: v for _, skill, _, _, v in TEAMS}
    capacity = {skill: h * PRODUCTIVE_WEEKS_PER_QUARTER * PERIODS for _, skill, h, _, _ in TEAMS}
    demand = dict.fromkeys(velocity, 0.0)
    for issue in issues:
        if issue.issue_type != "Epic" or issue.category == "Done":
            continue
        sp = float(issue.custom["Story Points"])
        split = issue.custom["Skill Split"]
        if split:
            shares = {
                s.lower(): float(p) / 100
                for s, p in (part.rsplit(" ", 1) for part in split.replace("%", "").split(", "))
            }
        else:
            skills = [c.lower() for c in issue.components if c.lower() in velocity]
            shares = {s: 1 / len(skills) for s in skills}
        for skill, share in shares.items():
            demand[skill] += sp * share / velocity[skill]
    return {s: (demand[s], capacity[s]) for s in velocity}


GENERATED_FILES = ("backlog.csv", "teams.csv", "kpis.csv", "okrs.csv", "settings.yaml")


def generate(out: Path = OUT) -> list[Issue]:
    """Write every demo file into ``out``; returns the issues of the backlog."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    issues = build_issues(rng)
    write_backlog(issues, out / "backlog.csv")
    write_teams(out / "teams.csv")
    kpis = kpi_rows(rng)
    write_kpis(with_export_flaws(kpis), out / "kpis.csv")
    write_okrs(kpis, out / "okrs.csv")
    (out / "settings.yaml").write_text(SETTINGS_YAML, encoding="utf-8", newline="")
    return issues


def main() -> None:
    issues = generate(OUT)
    summary = demand_summary(issues)
    total_demand = sum(d for d, _ in summary.values())
    total_capacity = sum(c for _, c in summary.values())
    epics = sum(i.issue_type == "Epic" for i in issues)
    print(
        f"{epics} epics, {len(INITIATIVES)} initiatives; capacity / open demand = "
        f"{total_capacity:.0f} / {total_demand:.0f} pw = {total_capacity / total_demand:.0%}"
    )
    for skill, (demand, capacity) in summary.items():
        print(f"  {skill:9s} demand {demand:7.1f} pw  capacity {capacity:6.0f} pw  ({capacity / demand:.0%})")


if __name__ == "__main__":
    main()
