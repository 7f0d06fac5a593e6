"""What ``digiops validate`` checks of the maturity stage before a run (:func:`check`)."""

from __future__ import annotations

from digiops.engagement import Engagement, closest
from digiops.errors import DigiopsError, EngagementError
from digiops.maturity.bank import bank_for
from digiops.maturity.benchmark import benchmark_for
from digiops.maturity.roadmap import initiatives_for

#: setting → kind of the source it names
MATURITY_SOURCES = {"answers_source": "questionnaire", "indicators_source": "indicators",
                    "value_stream_source": "value_stream"}


def check(engagement: Engagement) -> list[DigiopsError]:
    """What the maturity stage would refuse: no answers source, a source of the wrong kind, and a question bank,
    benchmark table or initiative library that does not parse (the benchmark without the client's industry)."""
    settings, file = engagement.maturity, engagement.file.name
    try:
        for key in ("question_bank", "benchmark", "initiatives"):
            engagement.config_path("maturity", key)
    except EngagementError:
        return []  # outside the client folder: the engagement's own check reports it
    problems: list[DigiopsError] = []
    for setting, kind in MATURITY_SOURCES.items():
        name = getattr(settings, setting)
        source = engagement.sources.get(name) if name else None
        field, line = f"maturity.{setting}", engagement.line_of("maturity", setting)
        if source is None and setting == "answers_source":
            match = closest(name, [n for n, s in engagement.sources.items() if s.kind == kind])
            problems.append(EngagementError(file, f"no source named '{name}' for the questionnaire answers",
                                            field=field, line=line,
                                            fix=f"did you mean `{match}`?" if match else "add the answers file under "
                                            "sources: (kind questionnaire) or set maturity.answers_source to its name"))
        elif source is not None and source.kind != kind:
            problems.append(EngagementError(file, f"source '{name}' is of kind {source.kind}, not {kind}",
                                            field=field, line=line,
                                            fix=f"set kind: {kind} on that source, or name a source of kind {kind}"))
    for read in (lambda: bank_for(settings, engagement.folder),
                 lambda: benchmark_for(settings, engagement.folder).of(settings.industry or engagement.client.industry),
                 lambda: initiatives_for(settings, engagement.folder)):
        try:
            read()
        except DigiopsError as exc:
            problems.append(exc)
    return problems
