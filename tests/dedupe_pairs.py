"""Labelled riddle pairs for calibrating and testing dedupe.

Each entry is (label, (question, answer), (question, answer)). Labels:
exact, near_duplicate, variant (the same riddle: must collapse to one record),
conflict (same or near-identical question, different answers: both kept, flagged),
distinct (different riddles: both kept, not flagged). Pairs marked xiehouyu come from
../shared/data/xiehouyu.json; the rest were written for this file.
"""

from __future__ import annotations

MERGE = {"exact", "near_duplicate", "variant"}

PAIRS: list[tuple[str, tuple[str, str], tuple[str, str]]] = [
    # -- exact: the same match key for question and answer (punctuation, spaces, width)
    ("exact", ("什么东西越洗越脏？", "水"), ("什么东西越洗越脏?", "水。")),
    ("exact", ("什么路最窄？", "冤家路窄"), ("什么路 最窄！", "冤家路窄")),
    ("exact", ("ABC三个字母哪个最懒？", "B"), ("abc三个字母哪个最懒？", "b")),
    ("exact", ("泥菩萨过江", "自身难保"), ("泥菩萨过江——", "自身难保！")),
    # -- near duplicates: questions nearly identical, same answer
    ("near_duplicate", ("请问什么东西越洗越脏？", "水"), ("什么东西越洗越脏？", "水")),
    ("near_duplicate", ("猜一猜：什么门永远关不上？", "球门"), ("什么门永远关不上？", "球门")),
    ("near_duplicate", ("什么东西打破了才能吃？", "鸡蛋"), ("什么东西打破了才可以吃？", "鸡蛋")),
    (
        "near_duplicate",
        ("小明的爸爸有三个儿子，老大叫大毛，老二叫二毛，老三叫什么？", "小明"),
        ("小明的爸爸有三个儿子，老大叫大毛，老二叫二毛，那老三叫什么？", "小明"),
    ),
    (
        "near_duplicate",
        ("为什么飞机飞得那么高都不会撞到星星？", "因为星星会闪"),
        ("为什么飞机飞那么高都不会撞到星星？", "因为星星会闪"),
    ),
    ("near_duplicate", ("什么动物天天熬夜？", "熊猫"), ("什么动物每天熬夜？", "熊猫")),
    ("near_duplicate", ("牛角安在驴头上", "四不像"), ("把牛角安在驴头上", "四不像")),  # xiehouyu
    ("near_duplicate", ("骑马不带鞭子", "拍马屁"), ("骑马不带鞭", "拍马屁")),  # xiehouyu
    (
        "near_duplicate",
        ("黑人和白人生的婴儿，牙齿是什么颜色？", "婴儿没有牙齿"),
        ("黑人和白人生下的婴儿，牙齿是什么颜色的？", "婴儿没有牙齿"),
    ),
    (
        "near_duplicate",
        ("做贼碰上劫路人", "坏到一块了；冤家路窄"),
        ("做贼碰上劫路的人", "冤家路窄"),
    ),  # answer alternatives: one set contains the other
    # -- variants: same answer, question reworded
    (
        "variant",
        ("什么人一年只上一天班还不怕被解雇？", "圣诞老人"),
        ("什么人一年中只工作一天却永远不会被炒鱿鱼？", "圣诞老人"),
    ),
    ("variant", ("什么布剪不断？", "瀑布"), ("什么布用剪刀也剪不断？", "瀑布")),
    ("variant", ("哪种动物最爱熬夜？", "熊猫"), ("什么动物天天都在熬夜？", "熊猫")),
    ("variant", ("什么东西越生气就越大？", "脾气"), ("人越生气，什么东西就越大？", "脾气")),
    (
        "variant",
        ("小明的爸爸有三个儿子，老大叫大毛，老二叫二毛，老三叫什么？", "小明"),
        ("小明爸爸有三个孩子，大儿子叫大毛，二儿子叫二毛，三儿子叫什么名字？", "小明"),
    ),
    ("variant", ("什么东西人们都不喜欢吃？", "吃亏"), ("有一样东西谁都不爱吃，是什么？", "吃亏")),
    ("variant", ("泥菩萨过江", "自身难保"), ("泥菩萨过河", "自身难保")),  # xiehouyu
    ("variant", ("煮熟的鸭子", "飞不了"), ("蒸熟的鸭子", "飞不了")),  # xiehouyu
    ("variant", ("做烧饼卖汤圆", "多面手"), ("做烧饼的卖汤圆", "多面手")),  # xiehouyu
    ("variant", ("八十老翁吹喇叭", "有气无力"), ("八十岁老翁吹喇叭", "有气无力")),  # xiehouyu
    ("variant", ("什么车寸步难行？", "风车"), ("什么车一步也走不了？", "风车")),
    ("variant", ("鼻梁上推小车", "走投（头）无路"), ("鼻子上推小车", "走投（头）无路")),  # xiehouyu
    (
        "variant",
        ("围着叫化子逗乐", "拿穷人开心"),
        ("围着叫花子（乞丐）逗乐", "拿穷人开心"),
    ),  # xiehouyu
    ("variant", ("二加三减五", "等于零"), ("三加二减五", "等于零")),  # xiehouyu
    ("variant", ("吹鼓手吃饭", "顾吃不顾吹"), ("吹鼓手坐宴席", "顾吃不顾吹")),  # xiehouyu
    # -- distinct: different riddles sharing an answer (xiehouyu 多此一举, 大材小用, ...)
    ("distinct", ("阴天戴草帽", "多此一举"), ("阴天打阳伞", "多此一举")),
    ("distinct", ("画蛇添足", "多此一举"), ("骑驴拿拐杖", "多此一举")),
    ("distinct", ("戴着斗笠打伞", "多此一举"), ("戴着草帽打雨伞", "多此一举")),
    ("distinct", ("吃咸鱼蘸酱油", "多此一举"), ("咸肉里加酱油", "多此一举")),
    ("distinct", ("太阳地里打电筒", "多此一举"), ("白天照电筒", "多此一举")),
    ("distinct", ("大白天掌灯", "多此一举"), ("月亮坝里点灯", "多此一举")),
    ("distinct", ("电杆做牙签", "大材小用"), ("抵门杠做牙签", "大材小用")),
    ("distinct", ("房梁做锄把", "大材小用"), ("房梁刻图章", "大材小用")),
    ("distinct", ("床单做鞋垫", "大材小用"), ("被单补袜子", "大材小用")),
    ("distinct", ("做梦游西湖", "好景不长"), ("正月十五放烟火", "好景不长")),
    ("distinct", ("云彩里摆手", "高招"), ("飞机上摆手", "高招")),  # xiehouyu
    ("distinct", ("盲驴拉磨", "瞎转圈"), ("盲人推磨子", "瞎转圈")),  # xiehouyu
    ("distinct", ("吃狗肉喝白酒", "里外发烧"), ("吃辣椒喝白干", "里外发烧")),  # xiehouyu
    (
        "distinct",
        ("羽毛扇扑火", "惹火烧身；引火烧身"),
        ("灯蛾扑火", "惹火烧身；引火烧身"),
    ),  # xiehouyu
    ("distinct", ("麦田里种棉花", "一举两得"), ("棉花地里种芝麻", "一举两得")),  # xiehouyu
    ("distinct", ("猪八戒坐班房", "不白之冤"), ("好人坐班房", "不白之冤")),  # xiehouyu
    ("distinct", ("张飞卖针", "人强货扎手"), ("张飞卖刺猥", "人强货扎手")),  # xiehouyu
    ("distinct", ("什么海没有水？", "辞海"), ("什么书可以查到所有的词？", "辞海")),
    ("distinct", ("什么东西越洗越脏？", "水"), ("什么东西往上走不往下流？", "水")),
    ("distinct", ("什么人天天看别人的脸？", "理发师"), ("什么人整天在别人头上动刀？", "理发师")),
    # -- distinct: different riddles sharing only a template
    ("distinct", ("什么床不能睡？", "牙床"), ("什么酒不能喝？", "碘酒")),
    ("distinct", ("什么鱼不能吃？", "木鱼"), ("什么瓜不能吃？", "傻瓜")),
    ("distinct", ("什么牛不吃草？", "蜗牛"), ("什么马不能骑？", "河马")),
    ("distinct", ("什么帽不能戴？", "螺丝帽"), ("什么布剪不断？", "瀑布")),
    ("distinct", ("什么东西有头无脚？", "砖头"), ("什么东西有脚无头？", "板凳")),
    ("distinct", ("为什么青蛙会跳得比树高？", "树不会跳"), ("为什么鸭子会游泳？", "有脚蹼")),
    ("distinct", ("什么蛋不能吃？", "笨蛋"), ("什么蛋不能孵小鸡？", "考试的零蛋")),
    ("distinct", ("哪种动物最容易摔倒？", "狐狸"), ("哪种动物最会打架？", "斗牛")),
    # -- conflicts: the same or a near-identical question, different answers
    ("conflict", ("什么门永远关不上？", "足球门"), ("什么门永远关不上？", "球门")),
    ("conflict", ("什么书在书店买不到？", "遗书"), ("什么书在书店里买不到？", "秘书")),
    ("conflict", ("什么鸟不会飞？", "鸵鸟"), ("什么鸟不会飞？", "企鹅")),
    ("conflict", ("什么水永远用不完？", "薪水"), ("什么水永远都用不完？", "口水")),
]
