"""Benchmark corpus: one synthetic course written in each tool's own syntax.

The same lessons (el/pl/lv; prose, lists, links and Q/A cards) come out as:

- `project/lessons/<lang>/*.md`: this project's lessons (front matter, `Q::A` and multi-line cards
  with IDs), plus `course.yml` files;
- `pages/<lang>/*.md`: plain CommonMark pages (questions in bold, answers below), the input of the
  markdown-it-py, markdown-it-pyrs and mkdocs runs (`mkdocs/docs` links to the same files);
- `ankdown/<lang>/*.md`: ankdown cards (`front`, `%`, `back`, `---`), one deck per language;
- `notes.json`: the cards pre-rendered to HTML, for genanki writing notes with no parsing at all.

Text is deterministic (seeded), so two runs of the same size measure the same bytes.
"""

from __future__ import annotations

import html
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LANGS = ("el", "pl", "lv")

WORD_TEXT = {
    "el": (
        "ο πελάτης η εξυπηρέτηση υπομονή ενσυναίσθηση ακρόαση ομάδα επικοινωνία λύση πρόβλημα "
        "εμπιστοσύνη ευγένεια γνώση προϊόν χρόνος απάντηση ερώτηση συνάδελφος στόχος ποιότητα "
        "καλή σωστή γρήγορη ήρεμη φωνή ανάγκη παράπονο εταιρεία υπάλληλος εμπειρία"
    ),
    "pl": (
        "klient obsługa cierpliwość empatia słuchanie zespół komunikacja rozwiązanie problem "
        "zaufanie uprzejmość wiedza produkt czas odpowiedź pytanie współpracownik cel jakość "
        "żądanie dobra szybka spokojna głos potrzeba reklamacja firma pracownik doświadczenie"
    ),
    "lv": (
        "klients apkalpošana pacietība empātija klausīšanās komanda saziņa risinājums problēma "
        "uzticēšanās pieklājība zināšanas produkts laiks atbilde jautājums kolēģis mērķis "
        "kvalitāte ļoti laba ātra mierīga balss vajadzība sūdzība uzņēmums darbinieks pieredze"
    ),
}
WORDS = {lang: text.split() for lang, text in WORD_TEXT.items()}
QUESTION_MARK = {"el": "\u037e", "pl": "?", "lv": "?"}
SECTIONS = 5  # sections per lesson; the cards are spread over them
PROSE_SENTENCES = 4


@dataclass(frozen=True, slots=True)
class Inline:
    """One piece of inline text, as Markdown and as the HTML it renders to."""

    md: str
    html: str


@dataclass(frozen=True, slots=True)
class CardText:
    id: str
    question: Inline
    answer: Inline | None  # one-line answer, or
    items: tuple[Inline, ...]  # a multi-line card's list answer


@dataclass(frozen=True, slots=True)
class SectionText:
    heading: str
    prose: tuple[Inline, ...]
    cards: tuple[CardText, ...]


@dataclass(frozen=True, slots=True)
class LessonText:
    lang: str
    slug: str
    order: int
    title: str
    intro: Inline
    bullets: tuple[Inline, ...]
    sections: tuple[SectionText, ...]


class Writer:
    """Deterministic sentences in one language, with emphasis and links sprinkled in."""

    def __init__(self, lang: str, seed: int) -> None:
        self.lang = lang
        self.words = WORDS[lang]
        self.rng = random.Random(seed)

    def words_text(self, count: int) -> str:
        return " ".join(self.rng.choice(self.words) for _ in range(count))

    def sentence(self, count: int, end: str = ".", markup: bool = True) -> Inline:
        words = [self.rng.choice(self.words) for _ in range(count)]
        md, out = list(words), [html.escape(w, quote=False) for w in words]
        if markup and count > 4:
            kind = self.rng.randrange(4)
            at = self.rng.randrange(1, count - 1)
            if kind == 0:
                md[at], out[at] = f"*{words[at]}*", f"<em>{out[at]}</em>"
            elif kind == 1:
                md[at], out[at] = f"**{words[at]}**", f"<strong>{out[at]}</strong>"
            elif kind == 2:
                url = f"https://example.org/{self.lang}/{self.rng.randrange(10_000)}"
                md[at] = f"[{words[at]}]({url})"
                out[at] = f'<a href="{url}">{out[at]}</a>'
        first = md[0][:1].upper() + md[0][1:] if md[0][:1].isalpha() else md[0]
        first_html = out[0][:1].upper() + out[0][1:] if out[0][:1].isalpha() else out[0]
        return Inline(" ".join([first, *md[1:]]) + end, " ".join([first_html, *out[1:]]) + end)

    def paragraph(self, sentences: int) -> Inline:
        parts = [self.sentence(self.rng.randrange(8, 16)) for _ in range(sentences)]
        return Inline(" ".join(p.md for p in parts), " ".join(p.html for p in parts))


def lesson_text(lang: str, order: int, cards: int) -> LessonText:
    writer = Writer(lang, seed=order * 7 + LANGS.index(lang))
    slug = f"l{order:05d}"
    sections: list[SectionText] = []
    per_section = [cards // SECTIONS + (1 if i < cards % SECTIONS else 0) for i in range(SECTIONS)]
    number = 0
    for index, count in enumerate(per_section):
        section_cards: list[CardText] = []
        for _ in range(count):
            card_id = f"{lang}{order:05d}c{number:03d}"
            question = writer.sentence(writer.rng.randrange(5, 10), QUESTION_MARK[lang])
            if number % 10 == 9:  # one card in ten: a multi-line card with a list answer
                items = tuple(writer.sentence(3, "", markup=False) for _ in range(3))
                section_cards.append(CardText(card_id, question, None, items))
            else:
                answer = writer.sentence(writer.rng.randrange(3, 9))
                section_cards.append(CardText(card_id, question, answer, ()))
            number += 1
        sections.append(
            SectionText(
                f"{writer.words_text(2).capitalize()} {index + 1}",
                (writer.paragraph(PROSE_SENTENCES),),
                tuple(section_cards),
            )
        )
    return LessonText(
        lang,
        slug,
        order,
        f"{writer.words_text(3).capitalize()} {order}",
        writer.paragraph(3),
        tuple(writer.sentence(4, "", markup=False) for _ in range(3)),
        tuple(sections),
    )


def project_markdown(lesson: LessonText) -> str:
    """This project's syntax: front matter, `Q::A` cards and `?` multi-line cards, with IDs."""
    out = [
        f"---\nid: {lesson.slug}\ntitle: {lesson.title}\nlang: {lesson.lang}\n"
        f"order: {lesson.order}\n---\n",
        lesson.intro.md + "\n",
        "\n".join(f"- {item.md}" for item in lesson.bullets) + "\n",
    ]
    for section in lesson.sections:
        out.append(f"## {section.heading}\n")
        out.extend(p.md + "\n" for p in section.prose)
        for card in section.cards:
            if card.answer is not None:
                out.append(f"{card.question.md}::{card.answer.md} <!-- id: {card.id} -->\n")
            else:
                items = "\n".join(f"- {item.md}" for item in card.items)
                # The ID ends the last line, as `ids` writes it: on a line of its own, the
                # plugin runs the card on into the next paragraph (a warning; `build` moves it).
                out.append(f"{card.question.md}\n?\n{items} <!-- id: {card.id} -->\n")
    return "\n".join(out)


def page_markdown(lesson: LessonText) -> str:
    """Plain CommonMark: the same lesson as a page (question in bold, answer below)."""
    out = [
        f"# {lesson.title}\n",
        lesson.intro.md + "\n",
        "\n".join(f"- {item.md}" for item in lesson.bullets) + "\n",
    ]
    for section in lesson.sections:
        out.append(f"## {section.heading}\n")
        out.extend(p.md + "\n" for p in section.prose)
        for card in section.cards:
            out.append(f"**{card.question.md}**\n")
            if card.answer is not None:
                out.append(card.answer.md + "\n")
            else:
                out.append("\n".join(f"- {item.md}" for item in card.items) + "\n")
    return "\n".join(out)


def ankdown_markdown(lesson: LessonText) -> str:
    """ankdown's syntax: front, `%`, back, `%`, tags, `---` between cards."""
    out: list[str] = []
    for section in lesson.sections:
        for card in section.cards:
            back = (
                card.answer.md
                if card.answer is not None
                else "\n".join(f"- {item.md}" for item in card.items)
            )
            out.append(f"{card.question.md}\n\n%\n\n{back}\n\n%\n\n{lesson.slug}\n")
    return "\n---\n\n".join(out)


def notes(lesson: LessonText) -> Iterator[dict[str, str]]:
    """The cards as HTML fields, as a parser would have produced them."""
    for section in lesson.sections:
        for card in section.cards:
            if card.answer is not None:
                back = f"<p>{card.answer.html}</p>"
            else:
                back = "<ul>\n" + "".join(f"<li>{i.html}</li>\n" for i in card.items) + "</ul>"
            yield {
                "id": card.id,
                "lesson": f"{lesson.order:05d} {lesson.title}",
                "section": section.heading,
                "front": f"<p>{card.question.html}</p>",
                "back": back,
            }


MKDOCS_YML = """site_name: Bench course
docs_dir: docs
use_directory_urls: false
theme:
  name: mkdocs
"""


def lessons_per_language(lessons: int) -> dict[str, int]:
    return {lang: lessons // 3 + (1 if i < lessons % 3 else 0) for i, lang in enumerate(LANGS)}


def write_corpus(root: Path, cards: int, cards_per_lesson: int = 50) -> dict[str, int]:
    """Write every form of a `cards`-card corpus under `root`; returns its byte counts."""
    lessons = max(1, cards // cards_per_lesson)
    project = root / "project" / "lessons"
    project.mkdir(parents=True)
    (project / "course.yml").write_text("id: bench-course\ntitle: Bench course\n")
    pages, ank = root / "pages", root / "ankdown"
    all_notes: dict[str, list[dict[str, str]]] = {}
    sizes = {"project": 0, "pages": 0, "ankdown": 0}
    for lang, count in lessons_per_language(lessons).items():
        for folder in (project / lang, pages / lang, ank / lang):
            folder.mkdir(parents=True)
        (project / lang / "course.yml").write_text(f"title: Bench {lang}\n")
        all_notes[lang] = []
        for order in range(1, count + 1):
            lesson = lesson_text(lang, order, cards_per_lesson)
            name = f"{order:05d}-{lesson.slug}.md"
            for key, folder, text in (
                ("project", project / lang, project_markdown(lesson)),
                ("pages", pages / lang, page_markdown(lesson)),
                ("ankdown", ank / lang, ankdown_markdown(lesson)),
            ):
                data = text.encode()
                (folder / name).write_bytes(data)
                sizes[key] += len(data)
            all_notes[lang].extend(notes(lesson))
    (root / "notes.json").write_text(json.dumps(all_notes, ensure_ascii=False))
    mkdocs = root / "mkdocs"
    mkdocs.mkdir()
    (mkdocs / "mkdocs.yml").write_text(MKDOCS_YML)
    (mkdocs / "docs").symlink_to(pages.resolve(), target_is_directory=True)
    (pages / "index.md").write_text("# Bench course\n")
    return sizes


def edit_one_card(lessons: Path) -> Path:
    """Change one card's answer text in the middle lesson of the first language (in place)."""
    files = sorted((lessons / LANGS[0]).glob("*.md"))
    path = files[len(files) // 2]
    text = path.read_text(encoding="utf-8")
    marker = "::"
    at = text.index(marker)
    path.write_text(text[: at + 2] + "Edited answer, " + text[at + 2 :], encoding="utf-8")
    return path
