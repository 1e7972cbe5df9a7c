"""The benchmark metrics on hand-built rankings whose answers are known."""

from __future__ import annotations

import pytest

from skillmatch.evaluation import average_precision, dedupe, reciprocal_rank, rp_at_k


def test_rp_at_k_uses_min_of_k_and_gold_size() -> None:
    gold = frozenset({"a", "b"})
    assert rp_at_k(["a", "x", "b", "y", "z"], gold, 5) == 1.0
    assert rp_at_k(["a", "x", "y", "z", "w", "b"], gold, 5) == 0.5
    many = frozenset("abcdefg")
    assert rp_at_k(list("abxyz"), many, 5) == pytest.approx(2 / 5)


def test_average_precision_and_reciprocal_rank() -> None:
    assert average_precision(["a", "x", "b"], {"a", "b"}) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision(["x", "y"], {"a"}) == 0.0
    assert average_precision(["a"], {"a", "b"}) == 0.5  # unranked relevant items count as 0
    assert reciprocal_rank(["x", "a"], {"a"}) == 0.5
    assert reciprocal_rank([], {"a"}) == 0.0


def test_dedupe_keeps_first_occurrence() -> None:
    assert dedupe(["c1", "c2", "c1", "c3"]) == ["c1", "c2", "c3"]


def test_skill_sets_english_dutch_and_empty_gold(mini_settings, tmp_path) -> None:
    import duckdb

    from skillmatch.evaluation import (
        evaluate_skill_units,
        read_skill_set,
        read_translated_set,
        sentence_units,
    )
    from skillmatch.mapping import SkillExtractor

    path = tmp_path / "tiny_validation_annotations.csv"
    path.write_text(
        "sentence,span,sub_span,label\n"
        "Experience with PostgreSQL,PostgreSQL,,PostgreSQL\n"
        "Strong C# skills,C#,,C#\n"
        "Strong C# skills,skills,,LABEL NOT PRESENT\n"
        "Great colleagues,colleagues,,UNDERSPECIFIED\n",
        encoding="utf-8",
    )
    english = read_skill_set(path, keep_empty=True)
    assert [len(s.gold) for s in english] == [1, 1, 0]
    assert len(read_skill_set(path)) == 2  # without keep_empty: sentences with gold only
    nl = tmp_path / "tiny_validation_nl.csv"
    nl.write_text("sentence_en,sentence_nl\nExperience with PostgreSQL,Ervaring met "
                  "PostgreSQL\nNot in the English file,Niet in het Engelse bestand\n",
                  encoding="utf-8")
    dutch = read_translated_set(nl, english)
    assert [(d.sentence, d.group) for d in dutch] == [("Ervaring met PostgreSQL", "block0")]
    assert dutch[0].gold == english[0].gold

    con = duckdb.connect(str(mini_settings.warehouse), read_only=True)
    extractor = SkillExtractor(mini_settings, con, acceptance=False)
    con.close()
    units = (sentence_units(extractor, english, "TINY", "tiny", "en")
             + sentence_units(extractor, dutch, "TINY (nl)", "tiny", "nl"))
    assert units[0].group == units[-1].group  # a sentence and its translation share a fold
    table = evaluate_skill_units(units, None, 0.55, folds=2)
    rp5 = table[(table.dataset == "TINY") & (table.metric == "RP@5")]
    assert rp5["heuristic"].iat[0] == 100.0 and rp5["n"].iat[0] == 3
    assert {"value", "in_sample", "heuristic"} <= set(table.columns)


def test_ad_gold_items_with_alternatives(tmp_path) -> None:
    from skillmatch.evaluation import read_ad_gold

    (tmp_path / "ads.csv").write_text("source,record,title\nnhs,1,Nurse\nnhs,2,Empty\n",
                                      encoding="utf-8")
    (tmp_path / "ads_gold.csv").write_text(
        "source,record,item,uri,preferred_label,evidence\n"
        "nhs,1,1,u:a,a,x\nnhs,1,1,u:b,b,x\nnhs,1,2,u:c,c,y\n", encoding="utf-8")
    ads = read_ad_gold(tmp_path)
    assert [a.record for a in ads] == ["1", "2"]
    assert sorted(map(sorted, ads[0].items)) == [["u:a", "u:b"], ["u:c"]]
    assert ads[1].items == ()


def test_melo_runner_on_a_tiny_set(mini_settings, tmp_path) -> None:
    import duckdb

    from skillmatch.encoding import get_encoder
    from skillmatch.evaluation import evaluate_melo

    nurse = "http://data.europa.eu/esco/occupation/8d3e8aaa-791b-4c75-a465-f3f827028f50"
    welder = "http://data.europa.eu/esco/occupation/7aedaa07-3884-4c5b-88f9-80997b2aa54b"
    con = duckdb.connect(str(mini_settings.warehouse), read_only=True)
    dutch = {uri: [r[0] for r in con.execute(
        "SELECT label FROM esco_label WHERE uri = ? AND language = 'nl' ORDER BY kind, label "
        "LIMIT 2", [uri]).fetchall()] for uri in (nurse, welder)}
    assert all(len(v) == 2 for v in dutch.values())
    corpus = [(f"C{i}_{j}", uri, label) for i, uri in enumerate((nurse, welder))
              for j, label in enumerate(dutch[uri])]
    files = {
        "queries.tsv": "Q1\tverpleegkundige\nQ2\tlasser\n",
        "corpus_elements.tsv": "".join(f"{e}\t{label}\n" for e, _, label in corpus),
        "concept_mapping.tsv": "".join(f"{e}\t{uri}\n" for e, uri, _ in corpus),
        "annotations.tsv": "".join(f"{q}\t0\t{e}\t1\n" for q, uri in (("Q1", nurse),
                                   ("Q2", welder)) for e, u, _ in corpus if u == uri),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = evaluate_melo(mini_settings, get_encoder(mini_settings, "all-MiniLM-L6-v2"),
                           tmp_path, con)
    con.close()
    assert result["n"] == 2
    assert result["acc@1"] == 1.0 and result["MRR"] == 1.0
    assert result["MAP"] == 1.0  # both surface forms of the right concept come first
    assert 0 < result["MAP element-wise"] <= 1.0
