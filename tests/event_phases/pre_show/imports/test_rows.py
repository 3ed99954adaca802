"""A row of an import, checked: the quick path gives what the contact model gives."""

from __future__ import annotations


def test_the_quick_contact_check_agrees_with_the_contact_model(monkeypatch):
    from event_phases.pre_show.imports import rows as imports_rows
    from event_phases.pre_show.imports.rows import RowError, VisitorRules

    rules = VisitorRules(badge_types=[], questions=[])
    rows = [
        {"full_name": " 王  小明 ", "email": "Wang@QQ.com", "phone": "138 0013 8000", "company": "ＡＢＣ\u3000家具",
         "title": "采购\t经理", "province": "浙江", "city": "宁波", "country": "中国", "language": "英文"},
        {"full_name": "李娜", "phone": "+86 139-0013-9000"},
        {"full_name": "李娜", "email": "li.na@163.com", "phone": ""},
        {"full_name": "李娜", "email": "", "phone": ""},
        {"full_name": "   ", "email": "li.na@163.com"},
        {"email": "li.na@163.com"},
        {"full_name": "名" * 200, "email": "li.na@163.com", "city": "城" * 100},
        {"full_name": "名" * 201, "email": "li.na@163.com"},
        {"full_name": "李娜", "email": "li.na@163.com", "company": "公" * 301},
        {"full_name": "李娜", "email": "li.na@163.com", "title": "ﾀｲﾄﾙ" * 50},
        {"full_name": "Anna", "email": "anna@example.de", "phone": "+49 30 901820"},
        {"full_name": "Anna", "email": "not an e-mail", "phone": "13800138000"},
        {"full_name": "Anna", "email": "anna@example.de", "phone": "12345"},
    ]

    def outcome(values):
        try:
            return rules.check(2, values)
        except RowError as exc:
            return exc.field, exc.code, exc.reason

    quick = [outcome(values) for values in rows]
    monkeypatch.setattr(imports_rows, "quick_contact", lambda given, checked: None)
    assert quick == [outcome(values) for values in rows]
    assert quick[0].contact == {"full_name": "王 小明", "email": "wang@qq.com", "phone": "+8613800138000",
                                "company": "ABC 家具", "title": "采购 经理", "province": "浙江", "city": "宁波",
                                "country": "CN", "language": "en"}
