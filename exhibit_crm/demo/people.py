"""Made-up people and companies for the demo: Chinese and foreign names, places, e-mails and phones."""

from __future__ import annotations

import random

import phonenumbers

from .data import (
    BUSINESS,
    CN_MOBILE,
    CORES,
    COUNTRIES,
    EN_STEMS,
    EN_VISITOR_KINDS,
    EXHIBITOR_KINDS_EN,
    EXHIBITOR_KINDS_ZH,
    FREE_MAIL_EN,
    FREE_MAIL_ZH,
    GIVEN,
    PRESS,
    PROVINCES,
    RARE,
    SIZES,
    SURNAMES,
    TITLES_EN,
    TITLES_ZH,
    VISITOR_KINDS,
)
from .helpers import Weighted, ascii_text, split_pairs


class People:
    """Invents contacts and companies: names, e-mails and phones that are plausible and unique."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.surnames = Weighted([(pair, 1 / (rank + 4)) for rank, pair in enumerate(split_pairs(SURNAMES))])
        self.given, self.rare, self.cores = split_pairs(GIVEN), split_pairs(RARE), split_pairs(CORES)
        self.provinces = Weighted([(p, p[1]) for p in PROVINCES])
        self.exhibitor_provinces = Weighted([(p, p[2]) for p in PROVINCES])
        self.countries = Weighted([(c, c[1]) for c in COUNTRIES])
        self.exhibitor_countries = Weighted([(c, c[2]) for c in COUNTRIES])
        self.country = {c[0]: c for c in COUNTRIES}
        self.titles_zh, self.titles_en = Weighted(TITLES_ZH), Weighted(TITLES_EN)
        self.free_zh, self.free_en = Weighted(FREE_MAIL_ZH), Weighted(FREE_MAIL_EN)
        self.business, self.sizes = Weighted(BUSINESS), Weighted(SIZES)
        self.suffixes = Weighted((("有限公司", 7), ("股份有限公司", 2), ("集团有限公司", 1)))
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.company_names: set[str] = set()
        self.companies: list[dict] = []
        self.contacts: list[dict] = []
        self.visitor_companies: dict[str, list[dict]] = {}
        self.press = [self._company(name, country, domain=f"{ascii_text(name) or 'media'}.com")
                      for name, country in PRESS]

    def foreign_country(self, *, exhibitor: bool = False) -> str:
        return (self.exhibitor_countries if exhibitor else self.countries)(self.rng)[0]

    def person(self, *, country: str, company: dict | None, with_email: bool = True) -> dict:
        """A new contact; Chinese names for China, the country's names elsewhere."""
        rng = self.rng
        if country == "CN":
            first, last, locals_ = self._chinese_name()
            titles, language = self.titles_zh, "zh-CN"
        else:
            first, last = rng.choice(self.country[country][6].split()), rng.choice(self.country[country][7].split())
            locals_ = (f"{ascii_text(first)}.{ascii_text(last)}", f"{ascii_text(first)[0]}{ascii_text(last)}")
            titles, language = self.titles_en, "en"
        province, city = self._place(country, company)
        contact = {
            "first_name": first, "last_name": last,
            "full_name": f"{last}{first}" if country == "CN" else f"{first} {last}",
            "email": self._email(country, locals_, company) if with_email else None,
            "phone": self._phone(country) if (not with_email or rng.random() < (0.92 if country == "CN" else 0.6))
            else None,
            "title": titles(rng) if company else "", "country": country, "province": province, "city": city,
            "language": language, "consent_marketing": False, "consent_marketing_at": None,
            "consent_marketing_source": "", "consent_share": False, "consent_share_at": None,
            "consent_share_source": "", "consent_text_version": "", "unsubscribed_at": None,
            "created_at": None, "updated_at": None, "_company": company, "_sources": {},
        }
        if contact["email"] is None and contact["phone"] is None:  # nobody is kept whom we cannot reach
            contact["email"] = self._email(country, locals_, company)
        self.contacts.append(contact)
        return contact

    def _chinese_name(self) -> tuple[str, str, tuple[str, ...]]:
        rng = self.rng
        surname, surname_py = self.surnames(rng)
        chars = [rng.choice(self.given) for _ in range(1 if rng.random() < 0.28 else 2)]
        if rng.random() < 0.02:
            chars[-1] = rng.choice(self.rare)
        given, given_py = "".join(c for c, _ in chars), "".join(p for _, p in chars)
        return given, surname, (f"{given_py}.{surname_py}", f"{surname_py}{given_py}", f"{surname_py}.{given_py}")

    def _place(self, country: str, company: dict | None) -> tuple[str, str]:
        if company is not None and company["country"] == country and company["city"]:
            return company["province"], company["city"]
        if country != "CN":
            return "", self.rng.choice(self.country[country][3])
        province = PROVINCES[3] if self.rng.random() < 0.4 else self.provinces(self.rng)
        return province[0], self.rng.choice(province[3])

    def _email(self, country: str, locals_: tuple[str, ...], company: dict | None) -> str:
        rng, roll = self.rng, self.rng.random()
        if company is not None and roll < (0.35 if country == "CN" else 0.6):
            local, domain = locals_[0], company["_domain"]
        elif country == "CN" and roll < 0.47:
            local, domain = str(rng.randint(100_000, 2_999_999_999)), "qq.com"
        else:
            local = rng.choice(locals_[1:] or locals_) + (str(rng.randint(1, 99)) if rng.random() < 0.5 else "")
            domain = (self.free_zh if country == "CN" else self.free_en)(rng)
        email, digits = f"{local}@{domain}", 2
        while email in self.emails:
            email, digits = f"{local}{rng.randint(2, 10 ** digits)}@{domain}", digits + 1
        self.emails.add(email)
        return email

    def _phone(self, country: str) -> str | None:
        rng = self.rng
        for _ in range(10):
            if country == "CN":
                phone = f"+86{rng.choice(CN_MOBILE)}{rng.randint(0, 99_999_999):08d}"
            else:
                example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
                e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                phone = f"{e164[:-4]}{rng.randint(0, 9999):04d}"
                if not phonenumbers.is_valid_number(phonenumbers.parse(phone)):
                    continue
            if phone not in self.phones:
                self.phones.add(phone)
                return phone
        return None

    # companies
    def visitor_company(self, country: str) -> dict:
        """A visitor's employer: often one whose colleagues come too."""
        pool = self.visitor_companies.setdefault(country, [])
        if pool and self.rng.random() < 0.45:
            return self.rng.choice(pool)
        if country == "CN":
            kind, slug = self.rng.choice(VISITOR_KINDS)
            company = self._chinese_company(kind, slug, self.provinces)
        else:
            company = self._foreign_company(country, self.rng.choice(EN_VISITOR_KINDS))
        company["_size"], company["_business"] = self.sizes(self.rng), self.business(self.rng)
        pool.append(company)
        return company

    def exhibitor_company(self, *, foreign: bool) -> dict:
        """A manufacturer that exhibits, with the product category it mainly sells."""
        if foreign:
            kind, _slug, category = self.rng.choice(EXHIBITOR_KINDS_EN)
            company = self._foreign_company(self.foreign_country(exhibitor=True), kind)
        else:
            kind, slug, category = self.rng.choice(EXHIBITOR_KINDS_ZH)
            company = self._chinese_company(kind, slug, self.exhibitor_provinces)
        company["_category"] = category
        return company

    def _chinese_company(self, kind: str, slug: str, provinces: Weighted) -> dict:
        rng = self.rng
        for attempt in range(40):
            province = provinces(rng)
            city = rng.choice(province[3])
            core, core_py = rng.choice(self.cores)
            suffix = self.suffixes(rng)
            name = f"{city.removesuffix('市')}{core}{kind}{suffix}"
            if attempt >= 30:
                name = f"{name}{city.removesuffix('市')}第{attempt - 29}分公司"
            if name not in self.company_names:
                break
        domain = f"{core_py}-{slug}.{rng.choice(('com', 'cn', 'com.cn'))}"
        return self._company(name, "CN", province=province[0], city=city, domain=domain)

    def _foreign_company(self, country: str, kind: str) -> dict:
        rng, spec = self.rng, self.country[country]
        for attempt in range(40):
            stem, city = rng.choice(EN_STEMS), rng.choice(spec[3])
            name = f"{stem} {kind} {spec[5]}" if attempt < 20 else f"{stem} {kind} {city} {attempt - 19} {spec[5]}"
            if name not in self.company_names:
                break
        domain = f"{ascii_text(stem.replace('&', 'and'))}-{ascii_text(kind.split()[0])}.{spec[4]}"
        return self._company(name, country, city=city, domain=domain)

    def _company(self, name: str, country: str, *, province: str = "", city: str = "", domain: str) -> dict:
        self.company_names.add(name)
        company = {"name": name, "name_key": "".join(name.lower().split()), "country": country,
                   "province": province, "city": city,
                   "website": f"https://www.{domain}" if self.rng.random() < 0.6 else "",
                   "created_at": None, "_domain": domain}
        self.companies.append(company)
        return company
