"""The column names of Jira's "Export CSV (all fields)" in English and German, as data.

:data:`JIRA_FIELDS` maps every canonical field to the headers Jira writes for it, in every
language, in order of preference (when a file has several, the first with a value wins).
The first entry is the English name shown in messages when the column is missing.
An entry in parentheses such as ``"(Story Points)"`` is a custom field: it matches
``<prefix> (Story Points)`` for every prefix in :data:`CUSTOM_FIELD_PREFIXES`, so
"Custom field (Story Points)" and "Benutzerdefinierte Felder (Story Points)" are one
alias. Headers are compared case-insensitively with runs of blanks read as one.

Evidence for the German names (header rows of German exports quoted in public importers,
collected in ``validation/jira/JIRA_CSV_HEADERS.md`` of the shared validation data):
Zusammenfassung, Vorgangsschlüssel, Vorgangs-ID, Vorgangstyp, Projektschlüssel, Projektname,
Statuskategorie, Übergeordnet, Ursprüngliche Schätzung, Fälligkeitsdatum,
"Benutzerdefinierte Felder (...)" with the name inside as the administrator wrote it
(``Story Points``) or translated (``Story Point-Schätzung``); Status, Sprint and
``Parent summary`` stay English. Names marked *judgement* below are Jira's German UI
terms that were not seen in an exported header; they cost nothing when absent.
"""

from __future__ import annotations

# "<prefix> (<name>)" is a custom field; German Jira writes the plural "Felder" in exports,
# the singular is its UI label (judgement).
CUSTOM_FIELD_PREFIXES: tuple[str, ...] = ("Custom field", "Benutzerdefinierte Felder", "Benutzerdefiniertes Feld")

# canonical field -> accepted headers, English first; "(Name)" = a custom field named Name
JIRA_FIELDS: dict[str, tuple[str, ...]] = {
    "key": ("Issue key", "Work item key", "Vorgangsschlüssel", "Key"),
    "issue_id": ("Issue id", "Work item id", "Vorgangs-ID"),
    "title": ("Summary", "Zusammenfassung"),
    "item_type": ("Issue Type", "Work type", "Work item type", "Vorgangstyp"),
    "status": ("Status",),
    "status_category": ("Status Category", "Statuskategorie"),
    "project_key": ("Project key", "Projektschlüssel"),
    "project_name": ("Project name", "Projektname"),
    "product": ("(Product)", "(Produkt)"),
    "parent": (
        "Parent",
        "Übergeordnet",
        "Parent key",
        "(Epic Link)",
        "(Parent Link)",
        "Epic Link",
        "Parent Link",
        "Parent id",
    ),
    "parent_summary": ("Parent summary",),
    "labels": ("Labels", "Stichwörter"),  # Stichwörter: judgement
    "components": ("Component/s", "Components", "Komponente/n", "Komponenten"),  # German: judgement
    "story_points": (
        "(Story Points)",
        "(Story point estimate)",
        "(Story Point-Schätzung)",
        "Story Points",
        "Story point estimate",
    ),
    "original_estimate": ("Original Estimate", "Ursprüngliche Schätzung"),
    "due_date": ("Due Date", "Fälligkeitsdatum"),
    # Weitblick's own custom fields; the German names are ones a German administrator may
    # give them (judgement)
    "reach": ("(Reach)", "(Reichweite)"),
    "impact": ("(Impact)",),
    "confidence": ("(Confidence)", "(Konfidenz)"),
    "business_value": ("(Business Value)", "(Geschäftswert)"),
    "time_criticality": ("(Time Criticality)", "(Zeitkritikalität)"),
    "risk_reduction": ("(Risk Reduction)", "(Risk Reduction/Opportunity Enablement)", "(Risikoreduktion)"),
    "moscow": ("(MoSCoW)",),
    "theme": ("(Strategic Theme)", "(Strategisches Thema)"),
    "kpi": ("(KPI)",),
    "uplift": ("(KPI Uplift)",),
    "differentiation": ("(Differentiation)", "(Differenzierung)"),
    "okr": ("(OKR)",),
    "skill_split": ("(Skill Split)",),
    "duration_quarters": ("(Duration Quarters)",),
    "exclusive_group": ("(Alternative Group)", "(Alternativgruppe)"),
    # keys of the issues whose KPI effect this one supersedes (German: judgement)
    "replaces": ("(Replaces)", "(Ersetzt)"),
}

# Headers of the key column that mark a file as a Jira export (a bare "Key" does not).
EXPORT_MARKERS: tuple[str, ...] = ("Issue key", "Work item key", "Vorgangsschlüssel")

# "<prefix> (<link type>)" columns hold the keys of linked issues; the link type's name
# (Blocks, Dependency ...) is the administrator's and stays as written. German: judgement.
LINK_PREFIXES: dict[str, tuple[str, ...]] = {
    "inward": ("Inward issue link", "Eingehender Vorgangslink"),
    "outward": ("Outward issue link", "Ausgehender Vorgangslink"),
}

# German names of Jira's built-in statuses and status categories -> the English names.
# Zu erledigen / In Arbeit / Fertig are seen in German exports; the classic workflow's
# Offen / Erneut geöffnet / Erledigt / Geschlossen are judgement.
STATUS_NAMES: dict[str, str] = {
    "Zu erledigen": "To Do",
    "In Arbeit": "In Progress",
    "Fertig": "Done",
    "Offen": "Open",
    "Erneut geöffnet": "Reopened",
    "Erledigt": "Resolved",
    "Geschlossen": "Closed",
}

# Columns a team's roadmap may be read from (pipelines.sources.roadmap; the backlog reader does
# not read them). Jira writes one column per value (repeated headers). German: judgement.
ROADMAP_FIELDS: dict[str, tuple[str, ...]] = {
    "fix_versions": ("Fix Version/s", "Fix versions", "Fix Versions", "Lösungsversion/en", "Lösungsversionen"),
    "sprint": ("Sprint",),
}
