#!/usr/bin/env python3
"""Writes the bundled sample stream (seeds/sample/*.jsonl), deterministically.

The messages are ours: templates of the kinds of posts, news items, governor's-mailbox
messages and replies a city bureau sees, filled from small vocabularies. Some hit the
seed keyword sets (including traditional-character and spaced-out evasions), most do not.
A few deliberately broken lines in posts.jsonl show the dead-letter topic at work.
"""
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

rng = random.Random(20221127)
out_dir = Path(__file__).resolve().parent.parent / "sample"
out_dir.mkdir(exist_ok=True)
tz = timezone(timedelta(hours=8))
t0 = datetime(2022, 11, 21, 8, 0, tzinfo=tz)

districts = ["蓬江区", "江海区", "新会区", "台山市", "开平市", "鹤山市", "恩平市"]
places = ["北街", "白沙", "会城", "荷塘", "杜阮", "水口", "沙坪", "三埠", "外海", "棠下"]
authors = [f"{a}{b}" for a in ["江门", "五邑", "侨乡", "蓬江", "小城", "新会"]
           for b in ["阿明", "老陈", "小李", "街坊", "打工人", "宝妈", "司机", "老师", "网友"]]

hit_posts = [
    "{place}那边有人拉横幅讨说法，说工地拖欠工资半年了",
    "网传{district}公安抓错人了，警方到现在也没有辟谣",
    "今天{place}核酸检测点排长队，江门这边的疫情到底怎么样",
    "{district}又有确诊？江门发布的数据和群里说法不一",
    "昨晚{place}有二三十人聚集在派出所门口，不知道发生什么事",
    "交警在{place}乱罚款，停车两分钟就贴条，这是钓鱼执法吧",
    "新出台的积分入学政策看不懂，到底要准备什么材料，能不能解释一下",
    "三孩生育津贴怎么申请？{district}社保窗口说还没接到通知",
    "江門 疫 情 又反彈了？{place}小區封控了",
    "网传公安在{place}暴力执法，视频都传开了",
    "医保报销比例下调的新规是什么意思，看不懂",
    "退休金调整的政策解读什么时候出来",
    "营业执照办了一个月还没下来，创业补贴也申请不了",
    "在{place}看到一群人围堵区政府大门，交通都堵了",
]
plain_posts = [
    "{place}的早茶还是那么好吃，推荐大家去试试",
    "周末带孩子去{place}公园放风筝，天气很好",
    "{district}的陈皮今年价格涨了不少",
    "下班路上看到{place}的晚霞，太美了",
    "有没有人知道{place}哪里修手机比较靠谱",
    "今天{place}菜市场的鱼很新鲜",
    "侨乡的碉楼真的值得一看，朋友来了都带他们去",
    "{district}新开了一家书店，环境不错",
    "今晚{place}广场有舞狮表演",
    "求推荐{district}好吃的煲仔饭",
    "骑车环{place}一圈，风景很好",
    "{place}那条路终于修好了，点个赞",
]
hit_news = [
    "市政府就《江门市养老服务条例（草案）》公开征求意见",
    "{district}召开重大行政决策听证会，听取群众对旧改方案的意见",
    "一图读懂：江门市2022年就业创业扶持新政",
    "江门发布疫情防控最新通报，{district}调整封控区域",
    "市税务局答记者问：个税汽车退税怎么办理",
    "警方辟谣：网传{district}公安局发生冲突系谣言",
]
plain_news = [
    "江门市举办第十届侨乡文化节",
    "{district}推进乡村振兴示范带建设",
    "江门港集装箱吞吐量再创新高",
    "{district}新建三座公园年内开放",
    "江门至珠海城际铁路进入铺轨阶段",
    "五邑大学举办校园开放日活动",
    "{district}农产品电商销售额同比增长两成",
]
mailbox_topics = [
    ("咨询", "孩子今年秋季入学，积分入学需要哪些材料？想咨询一下具体流程。"),
    ("咨询", "想咨询生育津贴的申领条件，{district}社保说要等通知。"),
    ("咨询", "退休金什么时候调整？想咨询养老金的计算方式。"),
    ("求助", "在{place}租房，房东不退押金，求助相关部门帮忙协调。"),
    ("求助", "居住证办理难，跑了好几趟{district}派出所还是办不了。"),
    ("建议", "建议在{place}路口增设红绿灯，早晚高峰很危险。"),
    ("建议", "建议公开征求意见的时间延长，很多居民还不知道这个草案。"),
    ("投诉", "投诉{place}工地夜间施工噪音扰民，已经一个月了。"),
    ("投诉", "上个月的留言到现在没人回复，投诉处理石沉大海。"),
    ("举报", "举报{place}有商户占道经营，城管多次处理没有下文。"),
    ("举报", "举报{district}某公司拖欠工资，几十名工人讨说法。"),
    ("投诉", "身份证补办排队三个小时，窗口工作人员推诿。"),
]
units = ["宣传科", "指挥中心", "督察支队", "户政支队", "交警支队", "法制支队"]


def ts(minutes):
    return (t0 + timedelta(minutes=minutes)).isoformat(timespec="seconds")


def fill(s):
    return s.format(place=rng.choice(places), district=rng.choice(districts))


posts, news, mailbox, replies = [], [], [], []
for i in range(170):
    tpl = rng.choice(hit_posts) if rng.random() < 0.35 else rng.choice(plain_posts)
    text = fill(tpl)
    posts.append({"id": f"p{i:04d}", "source": rng.choice(["weibo", "douyin", "forum"]),
                  "author": rng.choice(authors), "title": "", "content": text,
                  "url": f"https://forum.example/t/{100000 + i}", "region": rng.choice(districts),
                  "published_at": ts(i * 7)})
for i in range(60):
    tpl = rng.choice(hit_news) if rng.random() < 0.4 else rng.choice(plain_news)
    title = fill(tpl)
    news.append({"id": f"n{i:04d}", "source": "江门日报", "author": "本报记者", "title": title,
                 "content": title + "。详情见原文。", "url": f"https://news.example/a/{i}",
                 "region": rng.choice(districts), "published_at": ts(i * 20 + 3)})
# Mailbox messages from 2022-10-31 to the sample's "now" (SAMPLE_NOW, Friday 2022-11-25
# 12:00 +08:00; scripts/demo shifts every time so that SAMPLE_NOW becomes the real now).
sample_now = datetime(2022, 11, 25, 12, 0, tzinfo=tz)
m0 = datetime(2022, 10, 31, 8, 30, tzinfo=tz)
for i in range(72):
    category, tpl = rng.choice(mailbox_topics)
    text = fill(tpl)
    at = m0 + timedelta(minutes=i * 510)
    mailbox.append({"id": f"m{i:04d}", "source": "省长留言信箱", "author": rng.choice(authors),
                    "category": category, "title": text[:12], "content": text,
                    "region": rng.choice(districts), "published_at": at.isoformat(timespec="seconds")})
# Replies: most cases answered, some in time and some late, some not at all (left open or
# overdue, depending on their deadline); only replies given before SAMPLE_NOW exist.
for i, m in enumerate(mailbox):
    if i % 6 == 5:
        continue  # unanswered
    days = rng.choice([0.5, 1, 2, 3, 5, 8, 12, 20])
    replied = datetime.fromisoformat(m["published_at"]) + timedelta(days=days, hours=rng.randint(0, 8))
    if replied >= sample_now:
        continue
    replies.append({"id": m["id"], "unit": rng.choice(units),
                    "content": "您好，您反映的问题已转相关部门核实处理，感谢您的监督。",
                    "replied_at": replied.isoformat(timespec="seconds")})
# One message reaches yuqing after its reply (mailbox-late.jsonl is produced last).
replied_ids = {r["id"] for r in replies}
late = [m for m in mailbox if m["id"] in replied_ids][-1]
mailbox.remove(late)


def write(name, rows, extra=()):
    with open(out_dir / name, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        for line in extra:
            f.write(line + "\n")


write("posts.jsonl", posts, extra=['{"id": "bad-1", "content": "括号没有闭合"',
                                   '{"id": "bad-2", "author": "没有正文"}'])
write("news.jsonl", news)
write("mailbox.jsonl", mailbox)
write("replies.jsonl", replies)
write("mailbox-late.jsonl", [late])
total = len(posts) + len(news) + len(mailbox) + 1 + len(replies) + 2
print(f"{total} messages: {len(posts)} posts (+2 broken), {len(news)} news, "
      f"{len(mailbox) + 1} mailbox (one after its reply), {len(replies)} replies")
