"""The edition's exhibitor figures, each from one function whose docstring is its definition.

An exhibitor is a company's booking in the edition that is not cancelled (every exhibitor this CRM holds books
directly with the organiser). Net space is the booth's m² as booked (`booth_sqm`)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session

from exhibit_crm.models import Company, Exhibitor, Lead, ProductCategory

from .data import HOME_COUNTRY, EditionData


def exhibitors(session: Session, *, edition_id: int, cancelled: bool = False) -> pd.DataFrame:
    """The edition's exhibitors (not cancelled unless asked) with their company, booth, categories and leads:
    id, company_id, company, country, status, hall, booth, sqm, categories, arrived, leads, hot."""
    leads = (select(Lead.exhibitor_id, func.count().label("leads"),
                    func.count().filter(Lead.rating == "hot").label("hot")).group_by(Lead.exhibitor_id).subquery())
    query = (select(Exhibitor.id, Exhibitor.company_id, Company.name, Company.country, Exhibitor.status,
                    Exhibitor.booth_hall, Exhibitor.booth_number, Exhibitor.booth_sqm, Exhibitor.product_categories,
                    Exhibitor.arrived_at.is_not(None), func.coalesce(leads.c.leads, 0), func.coalesce(leads.c.hot, 0))
             .join(Company, Company.id == Exhibitor.company_id).outerjoin(leads, leads.c.exhibitor_id == Exhibitor.id)
             .where(Exhibitor.edition_id == edition_id).order_by(Exhibitor.id))
    if not cancelled:
        query = query.where(Exhibitor.status != "cancelled")
    frame = pd.DataFrame(session.execute(query).all(), columns=[
        "id", "company_id", "company", "country", "status", "hall", "booth", "sqm", "categories", "arrived", "leads",
        "hot"])
    frame["sqm"] = frame.sqm.astype("float64").fillna(0.0)
    frame["overseas"] = frame.country.fillna("").ne("") & frame.country.ne(HOME_COUNTRY)
    return frame


def count(booked: pd.DataFrame) -> int:
    """Exhibitors: bookings of the edition that are not cancelled."""
    return len(booked)


def arrived(booked: pd.DataFrame) -> int:
    """Exhibitors whose arrival at move-in was recorded."""
    return int(booked.arrived.sum())


def net_sqm(booked: pd.DataFrame) -> float:
    """Net space: the sum of the exhibitors' booked booth m² (a booking without m² adds nothing)."""
    return round(float(booked.sqm.sum()), 2)


def by_hall(booked: pd.DataFrame) -> list[dict]:
    """Exhibitors and net m² by hall ("" for those without a booth yet)."""
    halls = booked.assign(hall=booked.hall.fillna("")).groupby("hall").agg(exhibitors=("id", "size"),
                                                                          sqm=("sqm", "sum"))
    return [{"hall": hall, "exhibitors": int(row.exhibitors), "sqm": round(float(row.sqm), 2)}
            for hall, row in halls.iterrows()]


def by_category(data: EditionData, booked: pd.DataFrame) -> list[dict]:
    """Exhibitors and their net m² by product category; an exhibitor in several categories counts in each."""
    names = dict((code, (name, name_zh)) for code, name, name_zh in data.session.execute(
        select(ProductCategory.code, ProductCategory.name, ProductCategory.name_zh)
        .where(ProductCategory.edition_id == data.edition.id).order_by(ProductCategory.code)))
    chosen = booked[["id", "sqm", "categories"]].explode("categories").dropna(subset=["categories"])
    counted = chosen.groupby("categories").agg(exhibitors=("id", "size"), sqm=("sqm", "sum"))
    codes = list(names) + sorted(set(counted.index) - set(names))
    return [{"category": code, "name": names.get(code, (code, ""))[0], "name_zh": names.get(code, (code, ""))[1],
             "exhibitors": int(counted.exhibitors.get(code, 0)), "sqm": round(float(counted.sqm.get(code, 0.0)), 2)}
            for code in codes]


def by_origin(booked: pd.DataFrame) -> dict[str, dict]:
    """Domestic and overseas exhibitors and their m²: overseas is a company whose country is known and is not the
    home country (GB/T 26165's 境外展商); a company without a country counts as domestic."""
    return {name: {"exhibitors": int(part.sum()), "sqm": round(float(booked.sqm[part].sum()), 2)}
            for name, part in (("domestic", ~booked.overseas), ("overseas", booked.overseas))}


def leads(booked: pd.DataFrame) -> dict:
    """Leads the exhibitors collected at their booths: the total, the median and 90th percentile per exhibitor
    (every exhibitor counted, those with none as 0), the share of exhibitors with none, and hot leads."""
    if booked.empty:
        return {"total": 0, "median": None, "p90": None, "share_without": None, "hot": 0}
    per = booked.leads.astype(int)
    return {"total": int(per.sum()), "median": float(per.median()), "p90": float(per.quantile(0.9)),
            "share_without": round(float((per == 0).mean()), 4), "hot": int(booked.hot.sum())}
