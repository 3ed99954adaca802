"""Answers to an edition's registration questions, checked alike by every form that takes them (the public
registration, the desk's walk-in), and the refusal that lists every mistake of a form at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .errors import DomainError, InvalidInput
from .models import RegistrationQuestion

MAX_TEXT_ANSWER = 500


class FormRefused(InvalidInput):
    """A form with fields to correct; `errors` maps each field, in form order, to its error."""

    def __init__(self, errors: dict[str, DomainError]):
        name, first = next(iter(errors.items()))
        super().__init__(first.code, first.message, field=name)
        self.errors = errors

    @classmethod
    def ranked(cls, errors: dict[str, DomainError], order: Sequence[str]):
        """The refusal with the errors in the order the form shows its fields (fields not in `order` last)."""
        position = {name: index for index, name in enumerate(order)}
        return cls({key: errors[key] for key in sorted(errors, key=lambda key: position.get(key, len(order)))})


def _refuse(errors: dict, name: str, code: str, message: str) -> None:
    errors.setdefault(name, InvalidInput(code, f"{name}: {message}", field=name))


def answer_problem(question: RegistrationQuestion, values: list[str]) -> str | None:
    if question.kind == "text":
        return "too_long" if len(values) > 1 or len(values[0]) > MAX_TEXT_ANSWER else None
    allowed = {str(option.get("value", "")) for option in question.options}
    if any(value not in allowed for value in values) or (question.kind == "single" and len(values) > 1):
        return "invalid_choice"
    return None


def check_answers(questions: Iterable[RegistrationQuestion], given: dict, errors: dict) -> dict:
    """The answers as stored: a value for single choice and text, a list for multiple choice; each problem goes
    into `errors` under "answers.KEY"."""
    questions = list(questions)
    known = {question.key for question in questions}
    for key in given:
        if key not in known:
            _refuse(errors, f"answers.{key}", "unknown_question", "the edition has no such question")
    answers: dict = {}
    for question in questions:
        name, raw = f"answers.{question.key}", given.get(question.key)
        values = [str(v).strip() for v in (raw if isinstance(raw, list) else [raw]) if v is not None and str(v).strip()]
        if not values:
            if question.required:
                _refuse(errors, name, "required", "this question must be answered")
            continue
        problem = answer_problem(question, values)
        if problem:
            _refuse(errors, name, problem, problem.replace("_", " "))
        elif question.kind == "multiple":
            answers[question.key] = list(dict.fromkeys(values))
        else:
            answers[question.key] = values[0]
    return answers
