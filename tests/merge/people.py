"""Small synthetic person sources (canonical text columns) with known truth, for the merge tests."""

from __future__ import annotations

import random

import pandas as pd

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曾单解区仇朴查"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉鹏宇晨欣怡子涵浩然"
PLACES = [("浙江省", "杭州市", "西湖区", "文三路"), ("广东省", "广州市", "天河区", "体育西路"),
          ("北京市", "北京市", "朝阳区", "建国路"), ("上海市", "上海市", "浦东新区", "张江路"),
          ("江苏省", "南京市", "鼓楼区", "中山路"), ("广东省", "深圳市", "南山区", "科技园路")]
TRAD = {"张": "張", "陈": "陳", "杨": "楊", "黄": "黃", "赵": "趙", "伟": "偉", "丽": "麗", "军": "軍", "华": "華"}


def make_people(n: int = 120, seed: int = 7) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """``n`` people spread over a CRM and a mini-program source with typical dirt; returns sources and truth."""
    from digiops.merge.normalize import name_pinyin

    rng = random.Random(seed)
    people = []
    for pid in range(n):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        province, city, district, road = rng.choice(PLACES)
        people.append({"pid": f"P{pid:05d}", "name": name, "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                       "birth": f"{rng.randrange(1960, 2004)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                       "address": f"{province}{city}{district}{road}{rng.randrange(1, 999)}号",
                       "email": f"user{pid}@example.com"})
    crm, mini, truth = [], [], []
    for i, p in enumerate(people):
        if rng.random() < 0.85:
            phone = p["phone"]
            style = rng.random()
            if style < 0.3:
                phone = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
            elif style < 0.5:
                phone = "８６" + "".join(chr(ord(c) + 0xFEE0) for c in phone)
            name = "".join(TRAD.get(c, c) for c in p["name"]) if rng.random() < 0.2 else p["name"]
            name = name[0] + "\u3000" + name[1:] if rng.random() < 0.2 else name
            y, m, d = p["birth"].split("-")
            birth = f"{y}/{int(m)}/{int(d)}" if rng.random() < 0.5 else f"{y}年{int(m)}月{int(d)}日"
            rid = f"C{i:05d}"
            crm.append({"record_id": rid, "full_name": name, "phone": phone, "birth_date": birth,
                        "address": p["address"], "email": p["email"].upper() if rng.random() < 0.3 else p["email"]})
            truth.append(("crm", rid, p["pid"]))
        if rng.random() < 0.7:
            rid = f"M{i:05d}"
            pinyin = name_pinyin(p["name"]).title() if rng.random() < 0.3 else p["name"]
            phone = p["phone"] if rng.random() < 0.9 else p["phone"][:-1] + str((int(p["phone"][-1]) + 1) % 10)
            mini.append({"record_id": rid, "full_name": pinyin, "phone": phone, "birth_date": p["birth"],
                         "address": p["address"].replace("省", "").replace("市", "", 1) if rng.random() < 0.3
                         else p["address"], "email": ""})
            truth.append(("miniprogram", rid, p["pid"]))
    frames = {}
    for name, rows in (("crm", crm), ("miniprogram", mini)):
        frame = pd.DataFrame(rows).astype(str)
        frame.insert(0, "source", name)
        frame["_row"] = range(2, len(frame) + 2)
        frames[name] = frame
    return frames, pd.DataFrame(truth, columns=["source", "record_id", "person_id"])
