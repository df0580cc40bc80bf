"""Test corpus: workbooks from different producers holding the features a lossless writer must keep.

Every builder writes into a folder it is given (a pytest tmp dir) and returns the file's path.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
import zlib
from pathlib import Path

import xlsxwriter

# vbaProject.bin from XlsxWriter 3.2.0's examples/ folder (BSD-2-Clause, (c) 2013-2024 John McNamara):
# a real VBA project (modules ThisWorkbook, Sheet1, Module1 with the macro say_hello). zlib + base64.
_VBA_PROJECT = (
    "eNrtW31UW+d5f+6VACGQLTB2bYxtGfwVxzj3XoQMtmlB0hWQgEXAid2F2BYgjGKBiCRc3PhDduI0abPOS7w27ZosybI2rdMtTrae"
    "bl0znGX7Y+lap/M/dffRfOyc5Oz0NDtnPV13Umu/9973SldCYMDOknR+Lz/e977fH8/zvM/7vFcXf1Txs6fPV79Bee6TZKEr6VIq"
    "NsUJHJpzEomk40o6nTai0zfcx8r9BijBulUBVqAIYGtuAxxAKWAHyoByYBGwEliskwBVAJXAEmApp4Vl8D8BLAdWANVADU9bxf0b"
    "7qPheimGJ0kuUmkMfpyO0HzcMlCMUdeiq+R94Rtfa3v1Vz8SLAhPbdHj7iQvtdHCnQ0SyWjfepV2Dd+ctptGKEIJ2oNZiNMhGtDm"
    "49Cc26+GBDTP51zLvWHR/T60H8aTJHlB419EomDn/DrX9hnfXrZkZTqT4ZY8/i/hdebzv4PLgMWcj838X8VlQCH+X8llAOP/1cAa"
    "Xn4t/FqgDlgHrAc2ABuBTcBNwGbgZoCRTD2wFbgFkHgdCvwGwM3fPdxvgt8MbAd2ADuBFm1vI/oU0Aow2vMCPsAPqECAl++A3wnc"
    "CtwGdAHdwC4gCPQAtwO92joyWiK6Q6Npvfxe+J8Gfge4C+gH7gb2AfuBA0AIGAAGgSEgDAwDB4ERIALcAzCKjAKjwBgQA8aBe4E4"
    "kACSwARwGPgMMAkwbv4scB9wFDgGHAdOACm2/ssEEt5D4AeggkukUwMjpH+Cv9FEJJef2OBiKXV4eQjv30FYEMhEdvNjgOkkaeHk"
    "V2JSIwTBIOxJTpCzOr35btXcGeO/3tl/4+/lH7qmskmb674uvZ8C9TkzobNG38WdesjovQDak7CWkvYoQBPkRjO4QuKPOeSbFmd+"
    "3OQBNRTz6RUExg1iSt+bncT7J0zX7Ihz8Xoe18H91hw9cbo2OJN2OFu8kNfuTHMpaLLg9jUHe11Y4WtwV/5ByEyImfL40rzwArUl"
    "k/HIwESSwq47vft3hUYRaHHV7h7BLrInFj80EIs5D9U67PZHvKGEID4i3SdJkiL1NMnN9eSULDZfCVWJlcI6SXJ7jp10HG2PxgZC"
    "UeGis288NCg8GghFrYlw+ZAvHg4lbaGB6NI1PfHw0JnwYDRExZ1DdN62Oz7h8KqT4zFkrKrZHR4dj1IoGfaH45HDFrHyUe9EIhkb"
    "jRR/1uq3KFcZ8Dz4//T2G/x/g///X/P/N2fk/76RcGs4KTPGf8drDSXEpMb4rYqkMb5LWgXOzzC+1XOMM743KrzKGd8ZinLGd4WS"
    "nPFbw0Oc8WuH6BxnfOd4jDM+jUd1xi+PHBbX6Yy/fDQyF8bnrhuaxBC0hig0D3lBjCtq+nzxPPRPFwNX1vfj6YMG1QNfWVj789a/"
    "2Th/RtPbb1hg++VcT55r+41cv5vt/DHXtahZwPi3mfV/yH8rk/+vcvn/gqAPpAgZ/iJH/l/8KUvhUQXlv5U+WPkvXj/5b/tIyH8i"
    "j93oZ7UtK/XLqbD8z0pEQWCbcBN/E+9fLTKfjUqi3M24kNwuq3SJPO5Afh7j/f0rHWSmK4u2QA9o68RipjihfFdgvco5VGf6le+a"
    "rmIhtOWc7K10NbmvE4Qu94V1OCj2g5WH+bMZm8IAmE3BRrcNDDWMsEyCk2eT4Nchwn3tO4aFak/aIAI5fZ60WVfz468V8SLSbTnb"
    "7JesTVrGGOLGTdvod3CU7ghHozHXcDw26uo5khyJja1dRW2ttaKAIyLLJ2V3o9CMu1F3DDI9GmbbUR9NDLgSoSP7R4jVvOkmh12E"
    "AO5OHPTGJp2uTbUdwm40R0Z7trG1teRXx4ZcAo057FcbfvyOFD9JGsAkHD+qHzA1S0Epz6n7Fq7EiRrNMIq6UMSlMjc1P839cX7C"
    "R9abN75/ZWNNeuPO9C9ZxPYoFn5Xf9ran7YLVEUeG/Wnd6ZrQLK6EQKUk0LZdbytJUTcepGVmsTtHTiVo7KdQA3w/hWRxVZq5+0T"
    "c1l+ffxkGr8hzkr5OM28ZdNaXUcneZrOf7+ZWX6PXa0bTH6TWX4b+vtr8NfkyO+Xe27o7791+jtlBEvTNejv+ixfP72d5qi3m0t8"
    "kHr7+Tmd212HNP39jDckJsQz+sH9KSlzcF+U1d89oqG/R9cKPzYO7jZDfw85Df097DL096EKetE4uNsM/X2cuP4eKT6cObiXz0d/"
    "nwf/KycK8H/W/qwsaOIXLUD/bAdetxj6t34DsB8aeC8F6VZSQfe752N/F0ST0JlLmT1AR5keHoL2Hb+m+4f5j/80s+mK088f0v/R"
    "+ef3mL29KIfZb8j/D03+K3lS/7dB/gsfMfn/3FXsNkq+3WZKkZoUqZ5cVl3s10wX+6/OVeyfm13sr1uI2M+4H4ROs+lOl2LUpVBd"
    "37YKJjucFRRaI7DzTnsO1bkhZQPXQHV18LfirQ66Sx1KbEcLPZCjMTqI/yEaJRfqj2hWpQTSfEgZxRODQpub0o3woFYyAQxrN9Fs"
    "TwohLgzp3M/3B8P38JCK0FbyUxeeOsQwG8oESkVR3gs/odXL2mJ2FRdKjuOJarEhtBLR+pLI3UsKzBTTzxquaaZk9NMDX8rM1Hje"
    "TA2b5mO0wHzEtOMsiw/jTdFq34a8QVO8jPh+zMpetKFiTrZqYRVtFpphlSa1Umy2WEm2li7UN0D3IHZQy9OFcgNaH/O/CfhrKkRR"
    "Ddckx+p4L8zztIc6IS/96Nce0EQ/+n8EAAdjlhq08bK3IYyKzR4rn0RoAOWD6L2qrfoE4hjtZdfc7DZlVlxBOwGstl/rkQ99bQQd"
    "BVBDPWZIArwIeZGuIkUfSRsefQRuHq9kRuLOGckHxRtB5A9gltia6xTQjRxBE2cUqiOYQ0/zX/8iSBV2fmf/rWSFJlMsCmSDb4fv"
    "FHP3bm6dId1ak/1WwzKvHVwoIPsuP1FEy2e0oFZhTHfnmH8U/E+nl4ozl0mn2SV35nBer5m6ynM+0mDV7itQ7QoxN186ze7LmFue"
    "rWpRnr29qqCJKp1eLebnTKeZ+ZU5iVX3Pa266lnMx6zqRjwehGUsKWsojDLrxdlKpdPMSsBcD2tm/bQJULSKPQUq3ijm5kunFW66"
    "GMlWxU2Xoj4r+Ys8Il7fDwilWeqj69hWj/ix/fCRWaJOAffrtl3tu5UH4X+O9GPiw8DngS8AjwC/C3yR5zsD//eBR4HHgLPAHzDz"
    "JvBl4HHgK8BXgT8EvgY8ATwJ/BHwFLP2Ac8Af8zr/BPufwP+czz8LfjngOeBbwN/CvwZu6oAzgMv3vim8OPnnv/nn1df/GFH1yNd"
    "f/efUzveqzKEfPW/PF37zDNXOv/8zKqatx6r7zXi+x58s/z5Y3/f8eThV879ov3eHUZ8xiZuuav5RP9x/4OHp95b/7e/fNdIP+He"
    "7P6P2kttz/5k30uO15YHzeWYDNJNtkuEKkrTdzdgc7Oqk4PhaOpmJ1msd3rbfvWmE3F7ImOy58JxHmxQSk6w5O7Q4EsvOsnK8nm+"
    "Xeckm7UnHrsnPJiU7Z9wUrE1kRyKRcOPHXCSneXhiS//DUsLDg9HBsNLJ5xUbt09EjGMUIeOvuWk0hQbkED71cOh6ATOCst/worg"
    "sBJOyu9Us4aM7IeWI7v2lmCpF644qcTaHRti5v+BCqQ9YENV6bR2BcBuAKQkquL2/y/3OsmR07rceHemJeVdtCQygT1Z8Ay3SGS2"
    "B32/rxQt2t7KLEJ66groAsU5pdYgf1lOzHqUKqONopWZBkRNR5gmShdrJn1B+4pumvVrxhhhljzX0wnDL6YE7SZBIGmzKJ4ppfGq"
    "4g4LnRJp6G2rlexUQ8bSPzSYLGJfKbaKVfcUi/YW0V4ixoUqW1FxZalYqSlKZ6lcvHWnaF9GQjylk88nxRUZRTfFtAEHdtn14j6y"
    "bO5vx2E1JSmSuwGHVdsqq9UHHWyRUInDKnmO1SlbpTpoob7t/Xs6d0GR3tPXnziSSLrCow1KvyWsQGOODtQFu1SoyhM4g4aSkZrY"
    "GB0g4X4V9OmPDD6gQltMUeQSDZ5Sn0xVnE0JJ1VS/IEmv+SGmtzoDbTVy1JK9tZ7/WpjSr3U1pbyuVNFykNq6nE6GA+NugIR9DrR"
    "74uNjsbEMWtxd2QwHoM6Opx09Y2EoMsO9QcDgU4osbLS390X3Cr5u7rqPue8v9slV6TudQUHTl5wdUUODMRD8SN0GwmLK05dKqIl"
    "pyyXn1ghnHqO0y9pBNxOy4tSS3anzmkKTlvqJU3BmRJid0wJ1T8sUy6X1UxVgqQ6vILsnYRatoVWe0WhaMsraze4Ntd6bTd7hRXe"
    "o30jTzFea39lZV9r3alw616m01V3lHxd2VXy1srT219bWTK1qlXnM6pZ9JZgSe2Atnbq8ZM1NtsWhRbbgqu+19N88ac/XptaRqQ2"
    "O1otnfu+P7W6+qT17L4La79Yrkz5niW645BMwQ3rezb818s9l/Yr/7j/Dccb9z7T8FXl57coacebLcqJdx2iM7V6Jvp77LbNpwXN"
    "/GZYXkTK2mBEMuKMUNEMD7vJYkXMN3mg6uNCHtjtHjS548b92NLMTZeQMe9VcJbbKL4shc68fttfqc/XvCPLDwuahYJZKt62Gryp"
    "fWpAon26zekvDUW8QJrxcxXB1pa5Z3u6KGu7GjfZsQQ6WZS1Lv6ap1js1mm1/rp45rS1JcTvDF+fQaC8O8PXCaUzfJZ+U1HheGQX"
    "2V2lWSqjapF1Tt8A2BvrDpfyFn2OKLvBoArLL6x6f6b0WgOoUmQfTUMW9PQG23vbjsv9vmB3d3AXAt2dvt5gHwKog8GDf6pnK9gQ"
    "gxUteuVowy4L2Ym18qX/NI+7wH0pfziWJbbcvixGpc16X8bjMU1GDEeiEBGjmmRggiGm7Y4uRZK29es7JWSDutendm1V96psBtj0"
    "aVs169dNonnB9XW8nce9zv3Waf2S8uaIbUJr9H4xeWmIS01a6rJY2QqBaayGHoWVOMG60GbJdsEghQiPO8/9nmld6Lr43/X/c9dK"
    "5/f/nb5F/n/tZT+r+hRfJj41AW1qNOk5xl+6M/PEBKghPw3xiWUzuqhPHeteyGrunv7yMI+r4KR4IKd7jK7Y+mY0B0Q4yqncZMZH"
    "chkTTR2aLSmKDYpZs+KaRcOF0YYRjmoV2TQa0mnKQVRSUZztTp9Ypp01SP+tQZnrqjWu1bjEkcclcg6bKCvmcoVf+P7ebvpuYSab"
    "t/E9g/GenOMXA7nO3P9ZfoyiM37er0U4/0/7hi9nTmb9wqxvxHz/tNDv/8r4xc9cr4+e5b+Z0DnCfOv3Ge33DfNxVQu4//o6P6dO"
    "b39h4xf472Lm2v43mawRr58OupDfHxmOMcq1XAJ3+ltq72vyN0nbZEWplzyN2+rdiq+p3uvzBOrd3saAX2qSGmRf87Fah90fG5wY"
    "DY8lW8wUesuGDok7Uw6d4HPSdHJv4VQ/Q23yLNUpOWm7QqPhltrspon+dYSj477YWDI8mWTjkhB1ZzieiMTGIH3HoRwPRMMNSktt"
    "Q3ODomBrYhl83e0ttX6vv9njUX2qOyCZwcbc422pbWxs3KY2eVS5SW2Wm3Ugrd3XUusL+PzblIDU7JElmTtVRaLDfldHDLq6OpkM"
    "jw2F467OseHY3Q57Zgxyy30NTQ2K3+OW6n2BZqleln2B+ibV3VAvSW2Sr1mWJamx7dgOyN0d5pGjZu28OB4aDKNC8/S1SFtcmT+f"
    "w64vQ34sX4IWNLDFJbsbt7iam91bXNsUeYsrtz65YIVKfizdcB+S+1+Kty57"
)
VBA_SHA256 = "0ced1464b3677e98f5e3a8c5d80135e18dc98dca39299f1a8cfd2a00999fbf9f"


def vba_project() -> bytes:
    data = zlib.decompress(base64.b64decode("".join(_VBA_PROJECT)))
    assert hashlib.sha256(data).hexdigest() == VBA_SHA256
    return data


def rich_workbook(folder: Path) -> Path:
    """XlsxWriter workbook with notes, validation, x14 conditional formats, a chart, sparklines,
    a dynamic array formula, a defined name, a merged range, hyperlinks and formulas with cached values."""
    path = folder / "rich.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    bold = wb.add_format({"bold": True, "num_format": "#,##0.00", "border": 1})
    money = wb.add_format({"num_format": "#,##0.00", "font_color": "#1F4E79", "border": 2})
    ws = wb.add_worksheet("Data")
    ws.write_row("A1", ["รายการ", "งบประมาณ", "เบิกจ่าย", "ร้อยละ"], bold)
    rows = [("ค่าจ้าง", 1000, 250), ("ค่าเช่า", 2000, 1500), ("ค่าไฟ", 300, 300), ("อื่นๆ", 450.5, 0)]
    for i, (name, budget, spent) in enumerate(rows, start=1):
        ws.write(i, 0, name)
        ws.write_number(i, 1, budget, money)
        ws.write_number(i, 2, spent, money)
        ws.write_formula(i, 3, f"=IF(B{i + 1}=0,0,C{i + 1}/B{i + 1}*100)", money,
                         round(spent / budget * 100, 10))
    ws.write_formula("B6", "=SUM(B2:B5)", bold, 3750.5)
    ws.write_formula("C6", "=SUM(C2:C5)", bold, 2050)
    ws.write("A6", "รวม", bold)
    ws.write_dynamic_array_formula("F2:F5", "=_xlfn._xlws.SORT(B2:B5)", None, 300)
    ws.write_comment("A1", "หมายเหตุเดิม: original note")
    ws.write_comment("C3", "second original note", {"author": "Somchai"})
    ws.data_validation("C2:C5", {"validate": "decimal", "criteria": ">=", "value": 0})
    ws.conditional_format("B2:B5", {"type": "data_bar", "bar_solid": True, "bar_color": "#63C384"})
    ws.conditional_format("C2:C5", {"type": "icon_set", "icon_style": "3_arrows", "reverse_icons": True})
    ws.conditional_format("D2:D5", {"type": "cell", "criteria": ">", "value": 90,
                                    "format": wb.add_format({"bg_color": "#FFC7CE"})})
    ws.add_sparkline("E2", {"range": "Data!B2:C2", "type": "column"})
    ws.merge_range("A8:C8", "ผสานเซลล์ merged", bold)
    ws.write_url("A9", "https://www.example.com/", string="example link")
    ws.write_url("A10", "internal:Summary!A1", string="to Summary")
    ws.set_column("A:A", 18)
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Data!$B$2:$B$5", "categories": "=Data!$A$2:$A$5"})
    ws.insert_chart("H2", chart)
    wb.define_name("Budget", "=Data!$B$2:$B$5")
    summary = wb.add_worksheet("Summary")
    summary.write("A1", "Total")
    summary.write_formula("B1", "=SUM(Budget)", None, 3750.5)
    summary.write("A2", "untouched text")
    summary.write_number("B2", 42)
    wb.close()
    return path


def macro_workbook(folder: Path) -> Path:
    """.xlsm with a real VBA project and a form button (legacy VML) on a sheet without notes."""
    path = folder / "macro.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sheet1")
    wb.set_vba_name("ThisWorkbook")
    ws.set_vba_name("Sheet1")
    wb.add_vba_project(io.BytesIO(vba_project()), is_stream=True)
    ws.write("A1", "press the button")
    ws.write_number("A2", 10)
    ws.write_formula("A3", "=A2*2", None, 20)
    ws.insert_button("C2", {"macro": "say_hello", "caption": "Press Me", "width": 80, "height": 30})
    wb.close()
    return path


def zip_parts(path: Path) -> dict[str, bytes]:
    """Uncompressed bytes of every part, in zip order."""
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def replace_part(path: Path, part: str, data: bytes) -> None:
    """Rewrite a package with one part's bytes replaced (to hand-craft XML the producers don't write)."""
    parts = zip_parts(path)
    parts[part] = data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
