#!/usr/bin/env python3
"""Writes the corpus's firewall-record samples (corpus/logs/firewall-*), byte for byte as Windows
writes them: `reg export` in UTF-16LE with a BOM and CRLF, netsh output as a console redirect
(Windows-1252/ASCII, CRLF), wevtutil XML (UTF-8, one event per line, no root) and text.
Written from the public format descriptions in ../shared/reference/firewall-records.md
([MS-GPFAS] 2.2.2.19 and 4.2, KB897663, TechNet dd734783, KB875357). Run from the repository root."""
import os

ROOT = "corpus/logs"
OCS = r"C:\Program Files\Microsoft Office Communications Server 2007 R2\Server\Core"
KEY = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy"


def write(path, text, encoding="utf-8", bom=False, crlf=True):
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    data = text.encode(encoding)
    if bom and encoding == "utf-16-le":
        data = b"\xff\xfe" + data
    with open(full, "wb") as out:
        out.write(data)


def reg(value):
    """A .reg string: backslashes and quotes escaped as regedit writes them."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- A Front End (Windows Server 2008 R2): setup log + registry export of its firewall policy ---
rules = [
    ("{5E2C9F10-3B1A-4C8E-9D2F-6A7B8C9D0E01}",
     "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5061|App=" + OCS + r"\RTCSrv.exe"
     "|Name=Office Communications Server 2007 R2 Front End (SIP/TLS)|Desc=SIP over TLS and MTLS|"
     "EmbedCtxt=Office Communications Server 2007 R2|"),
    ("{5E2C9F10-3B1A-4C8E-9D2F-6A7B8C9D0E02}",
     "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=444|App=" + OCS + r"\RTCSrv.exe"
     "|Name=Office Communications Server 2007 R2 Front End (Focus C3P)|EmbedCtxt=Office Communications Server 2007 R2|"),
    ("{5E2C9F10-3B1A-4C8E-9D2F-6A7B8C9D0E03}",
     "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5062|App=" + OCS + r"\IMMCUSvc.exe"
     "|Name=Office Communications Server 2007 R2 IM Conferencing|Desc=IM conferencing \"MCU\" (SIP)|"
     "EmbedCtxt=Office Communications Server 2007 R2|"),
    ("{5E2C9F10-3B1A-4C8E-9D2F-6A7B8C9D0E04}",
     "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=17|Profile=Domain|Profile=Private|LPort2_10=49152-65535|App="
     + OCS + r"\AVMCUSvc.exe|Name=Office Communications Server 2007 R2 A/V Conferencing media|"
     "EmbedCtxt=Office Communications Server 2007 R2|"),
    ("{5E2C9F10-3B1A-4C8E-9D2F-6A7B8C9D0E05}",
     "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=8057|RA4=192.0.2.0/255.255.255.0|RA6=2001:db8:10::/48|App="
     + OCS + r"\DataMCUSvc.exe|Name=Office Communications Server 2007 R2 Web Conferencing|"
     "EmbedCtxt=Office Communications Server 2007 R2|"),
    ("{5E2C9F10-3B1A-4C8E-9D2F-6A7B8C9D0E06}",
     "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5072|LPort=5073|RA4=LocalSubnet|RA6=LocalSubnet|App="
     + OCS + r"\OcsAppServerHost.exe|Name=Office Communications Server 2007 R2 Application Host|"
     "EmbedCtxt=Office Communications Server 2007 R2|"),
    # Disabled: it opens nothing.
    ("{5E2C9F10-3B1A-4C8E-9D2F-6A7B8C9D0E07}",
     "v2.10|Action=Allow|Active=FALSE|Dir=In|Protocol=6|LPort=5060|App=" + OCS + r"\RTCSrv.exe"
     "|Name=Office Communications Server 2007 R2 Front End (SIP/TCP)|EmbedCtxt=Office Communications Server 2007 R2|"),
    # RPC keyword: no fixed port.
    ("{5E2C9F10-3B1A-4C8E-9D2F-6A7B8C9D0E08}",
     "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=RPC|App=" + OCS + r"\RTCSrv.exe"
     "|Name=Office Communications Server 2007 R2 (DCOM)|EmbedCtxt=Office Communications Server 2007 R2|"),
    # Windows' own rules (indirect strings).
    ("FPS-SMB-In-TCP",
     "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|Profile=Domain|LPort=445|App=System|"
     "Name=@FirewallAPI.dll,-28511|Desc=@FirewallAPI.dll,-28512|EmbedCtxt=@FirewallAPI.dll,-28502|"),
    ("RemoteDesktop-In-TCP",
     "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=3389|App=System|Name=@FirewallAPI.dll,-28753|"
     "Desc=@FirewallAPI.dll,-28756|EmbedCtxt=@FirewallAPI.dll,-28752|"),
    ("CoreNet-ICMP6-DU-In",
     "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=58|ICMP6=1:*|App=System|Name=@FirewallAPI.dll,-25110|"
     "Desc=@FirewallAPI.dll,-25112|EmbedCtxt=@FirewallAPI.dll,-25000|Edge=TRUE|"),
    ("CoreNet-DNS-Out-UDP",
     "v2.10|Action=Allow|Active=TRUE|Dir=Out|Protocol=17|RPort=53|App=%SystemRoot%\\system32\\svchost.exe|Svc=dnscache|"
     "Name=@FirewallAPI.dll,-25405|Desc=@FirewallAPI.dll,-25406|EmbedCtxt=@FirewallAPI.dll,-25000|"),
    # A block rule an administrator added.
    ("{0C1D2E3F-4A5B-6C7D-8E9F-A0B1C2D3E4F5}",
     "v2.10|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=5060|Name=Block unencrypted SIP|"),
]
lines = ["Windows Registry Editor Version 5.00", "",
         "[" + KEY + "]", "",
         "[" + KEY + r"\DomainProfile]", '"EnableFirewall"=dword:00000001', '"DefaultInboundAction"=dword:00000001', "",
         "[" + KEY + r"\FirewallRules]"]
for name, value in rules:
    lines.append(reg(name) + "=" + reg(value))
lines += ["", "[" + KEY + r"\RestrictedServices\Static\System]",
          '"NETBT-Deny-All"="v2.10|Action=Block|Active=TRUE|Dir=In|App=System|Svc=netbt|Name=Block all traffic to netbt|"',
          '"BlockedPrograms"=hex(7):43,00,3a,00,5c,00,00,00,\\', "  00,00", ""]
write("firewall-fe01/FirewallPolicy.reg", "\n".join(lines) + "\n", "utf-16-le", bom=True)

setup = """Office Communications Server 2007 R2 - Activate Enterprise Edition Server
Computer: fe01.example.com
Started: 3/14/2011 9:42:11 AM

Adding firewall exceptions:
  Firewall exception: Name="Front End SIP/TLS", Program="{ocs}\\RTCSrv.exe", Port=5061, Protocol=TCP
  Firewall exception: Name="Front End Focus", Program="{ocs}\\RTCSrv.exe", Port=444, Protocol=TCP
  Firewall exception: Name="IM Conferencing", Program="{ocs}\\IMMCUSvc.exe", Port=5062, Protocol=TCP
  Firewall exception: Name="QoE Agent", Program="{ocs}\\RTCSrv.exe", Port=5069, Protocol=TCP
  Firewall exception: Name="Response Group", Program="{ocs}\\OcsAppServerHost.exe", Port=5071, Protocol=TCP
Firewall exceptions added: 5

Activation completed successfully.
""".format(ocs=OCS)
write("firewall-fe01/Activate-EE-FrontEnd.log", setup)

# --- An Edge (Windows Server 2008 R2): netsh advfirewall firewall show rule name=all verbose ---
def block(name, fields):
    out = ["Rule Name:                            " + name, "-" * 70]
    for label, value in fields:
        out.append((label + ":").ljust(38) + value)
    return "\n".join(out)

edge_bin = r"C:\Program Files\Microsoft Office Communications Server 2007 R2\Server\Core"
common = [("Enabled", "Yes"), ("Direction", "In"), ("Profiles", "Domain,Private,Public")]
blocks = [
    block("Office Communications Server 2007 R2 Access Edge (SIP/TLS)", [
        ("Description", ""), *common, ("Grouping", "Office Communications Server 2007 R2"),
        ("LocalIP", "198.51.100.10"), ("RemoteIP", "Any"), ("Protocol", "TCP"), ("LocalPort", "443"),
        ("RemotePort", "Any"), ("Edge traversal", "No"), ("Program", edge_bin + r"\RTCSrv.exe"),
        ("Service", "Any"), ("InterfaceTypes", "Any"), ("Security", "NotRequired"), ("Rule source", "Local Setting"),
        ("Action", "Allow")]),
    block("Office Communications Server 2007 R2 Access Edge (federation)", [
        ("Description", ""), *common, ("Grouping", "Office Communications Server 2007 R2"),
        ("LocalIP", "198.51.100.10"), ("RemoteIP", "Any"), ("Protocol", "TCP"), ("LocalPort", "5061"),
        ("RemotePort", "Any"), ("Edge traversal", "No"), ("Program", edge_bin + r"\RTCSrv.exe"),
        ("Service", "Any"), ("InterfaceTypes", "Any"), ("Security", "NotRequired"), ("Rule source", "Local Setting"),
        ("Action", "Allow")]),
    block("Office Communications Server 2007 R2 A/V Edge (STUN/UDP)", [
        ("Description", ""), *common, ("Grouping", "Office Communications Server 2007 R2"),
        ("LocalIP", "Any"), ("RemoteIP", "Any"), ("Protocol", "UDP"), ("LocalPort", "3478"),
        ("RemotePort", "Any"), ("Edge traversal", "No"), ("Program", edge_bin + r"\MediaRelaySvc.exe"),
        ("Service", "Any"), ("InterfaceTypes", "Any"), ("Security", "NotRequired"), ("Rule source", "Local Setting"),
        ("Action", "Allow")]),
    block("Office Communications Server 2007 R2 A/V Edge (media)", [
        ("Description", ""), *common, ("Grouping", "Office Communications Server 2007 R2"),
        ("LocalIP", "Any"), ("RemoteIP", "Any"), ("Protocol", "TCP"), ("LocalPort", "50000-59999"),
        ("RemotePort", "Any"), ("Edge traversal", "No"), ("Program", edge_bin + r"\MediaRelaySvc.exe"),
        ("Service", "Any"), ("InterfaceTypes", "Any"), ("Security", "NotRequired"), ("Rule source", "Local Setting"),
        ("Action", "Allow")]),
    block("Office Communications Server 2007 R2 internal SIP (from the pool)", [
        ("Description", ""), *common, ("Grouping", "Office Communications Server 2007 R2"),
        ("LocalIP", "172.16.0.10"), ("RemoteIP", "10.1.0.0/255.255.0.0,10.2.0.1-10.2.0.2"), ("Protocol", "TCP"),
        ("LocalPort", "5061,8057"), ("RemotePort", "Any"), ("Edge traversal", "No"),
        ("Program", edge_bin + r"\RTCSrv.exe"), ("Service", "Any"), ("InterfaceTypes", "Any"),
        ("Security", "NotRequired"), ("Rule source", "Local Setting"), ("Action", "Allow")]),
    block("Office Communications Server 2007 R2 outbound media", [
        ("Description", ""), ("Enabled", "Yes"), ("Direction", "Out"), ("Profiles", "Domain,Private,Public"),
        ("Grouping", "Office Communications Server 2007 R2"), ("LocalIP", "Any"), ("RemoteIP", "Any"),
        ("Protocol", "UDP"), ("LocalPort", "Any"), ("RemotePort", "3478"), ("Edge traversal", "No"),
        ("Program", edge_bin + r"\MediaRelaySvc.exe"), ("Service", "Any"), ("InterfaceTypes", "Any"),
        ("Security", "NotRequired"), ("Rule source", "Local Setting"), ("Action", "Allow")]),
    block("Office Communications Server 2007 R2 HTTP (disabled)", [
        ("Description", ""), ("Enabled", "No"), ("Direction", "In"), ("Profiles", "Domain,Private,Public"),
        ("Grouping", "Office Communications Server 2007 R2"), ("LocalIP", "Any"), ("RemoteIP", "Any"),
        ("Protocol", "TCP"), ("LocalPort", "80"), ("RemotePort", "Any"), ("Edge traversal", "No"),
        ("Program", "Any"), ("Service", "Any"), ("InterfaceTypes", "Any"), ("Security", "NotRequired"),
        ("Rule source", "Local Setting"), ("Action", "Allow")]),
    block("Remote Desktop (TCP-In)", [
        ("Description", "Inbound rule for the Remote Desktop service to allow RDP traffic. [TCP 3389]"),
        ("Enabled", "Yes"), ("Direction", "In"), ("Profiles", "Domain"), ("Grouping", "Remote Desktop"),
        ("LocalIP", "Any"), ("RemoteIP", "Any"), ("Protocol", "TCP"), ("LocalPort", "3389"), ("RemotePort", "Any"),
        ("Edge traversal", "No"), ("Program", "System"), ("Service", "Any"), ("InterfaceTypes", "Any"),
        ("Security", "NotRequired"), ("Rule source", "Local Setting"), ("Action", "Allow")]),
    block("Core Networking - Destination Unreachable (ICMPv6-In)", [
        ("Description", "Destination Unreachable error messages are sent from any node that a packet traverses."),
        ("Enabled", "Yes"), ("Direction", "In"), ("Profiles", "Domain,Private,Public"), ("Grouping", "Core Networking"),
        ("LocalIP", "Any"), ("RemoteIP", "Any"), ("Protocol", "ICMPv6"),
        ("                                      Type    Code", ""), ]).replace(
        "                                      Type    Code:", "                                      Type    Code") +
    "\n                                      1       Any    \n" +
    "Edge traversal:                       No\nProgram:                              System\n"
    "Service:                              Any\nInterfaceTypes:                       Any\n"
    "Security:                             NotRequired\nRule source:                          Local Setting\n"
    "Action:                               Allow",
    block("Block SMB from the perimeter", [
        ("Description", ""), ("Enabled", "Yes"), ("Direction", "In"), ("Profiles", "Public"), ("Grouping", ""),
        ("LocalIP", "Any"), ("RemoteIP", "Any"), ("Protocol", "TCP"), ("LocalPort", "445"), ("RemotePort", "Any"),
        ("Edge traversal", "No"), ("Program", "Any"), ("Service", "Any"), ("InterfaceTypes", "Any"),
        ("Security", "NotRequired"), ("Rule source", "Local Setting"), ("Action", "Block")]),
]
write("firewall-edge01/netsh-advfirewall-show-rule.txt", "\n" + "\n\n".join(blocks) + "\nOk.\n\n", "cp1252")

# --- A Windows Server 2003 server: netsh firewall show config, and its registry lists ---
config = r"""
Domain profile configuration:
-------------------------------------------------------------------
Operational mode                  = Enable
Exception mode                    = Enable

Service configuration for Domain profile:
Mode     Customized  Name
-------------------------------------------------------------------
Enable   No          File and Printer Sharing
Disable  No          Remote Desktop

Allowed programs configuration for Domain profile:
Mode     Name / Program
-------------------------------------------------------------------
Enable   Office Communications Server 2007 R2 / C:\Program Files\Microsoft Office Communications Server 2007 R2\Server\Core\RTCSrv.exe
Disable  Office Communications Server 2007 R2 Web Conferencing / C:\Program Files\Microsoft Office Communications Server 2007 R2\Web Conferencing\DataMCUSvc.exe

Port configuration for Domain profile:
Port   Protocol  Mode     Name
-------------------------------------------------------------------
5061   TCP       Enable   Office Communications Server 2007 R2 SIP/TLS
5062   TCP       Enable   Office Communications Server 2007 R2 IM Conferencing
1434   UDP       Enable   SQL Server Browser
445    TCP       Enable   SMB over TCP
5060   TCP       Disable  Office Communications Server 2007 R2 SIP/TCP

ICMP configuration for Domain profile:
Mode     Type  Description
-------------------------------------------------------------------
Enable   2     Allow outbound packet too big

Standard profile configuration (current):
-------------------------------------------------------------------
Operational mode                  = Enable
Exception mode                    = Enable

Allowed programs configuration for Standard profile:
Mode     Name / Program
-------------------------------------------------------------------

Port configuration for Standard profile:
Port   Protocol  Mode     Name
-------------------------------------------------------------------
5061   TCP       Enable   Office Communications Server 2007 R2 SIP/TLS

Log configuration:
-------------------------------------------------------------------
File location   = C:\WINDOWS\pfirewall.log
Max file size   = 4096 KB
Dropped packets = Disable
Connections     = Disable
"""
write("firewall-2003/netsh-firewall-show-config.txt", config, "cp1252")

base2003 = KEY
lines = ["Windows Registry Editor Version 5.00", "",
         "[" + base2003 + r"\DomainProfile]", '"EnableFirewall"=dword:00000001', "",
         "[" + base2003 + r"\DomainProfile\AuthorizedApplications]", '"Enabled"=dword:00000001', "",
         "[" + base2003 + r"\DomainProfile\AuthorizedApplications\List]",
         reg(OCS + r"\RTCSrv.exe") + "=" + reg(OCS + r"\RTCSrv.exe:*:Enabled:Office Communications Server 2007 R2"),
         reg(r"%windir%\system32\sessmgr.exe") + "=" + reg(r"%windir%\system32\sessmgr.exe:*:Enabled:@xpsp2res.dll,-22019"),
         "",
         "[" + base2003 + r"\DomainProfile\GloballyOpenPorts]", '"Enabled"=dword:00000001', "",
         "[" + base2003 + r"\DomainProfile\GloballyOpenPorts\List]",
         '"5061:TCP"="5061:TCP:*:Enabled:Office Communications Server 2007 R2 SIP/TLS"',
         '"5062:TCP"="5062:TCP:192.0.2.0/255.255.255.0,192.0.2.200:Enabled:Office Communications Server 2007 R2 IM Conferencing"',
         '"5060:TCP"="5060:TCP:*:Disabled:Office Communications Server 2007 R2 SIP/TCP"',
         '"445:TCP"="445:TCP:LocalSubNet:Enabled:@xpsp2res.dll,-22005"',
         '"135:TCP"="135:TCP:LocalSubNet:Enabled:Office Communications Server 2007 R2 DCOM"',
         "",
         "[" + base2003 + r"\StandardProfile\GloballyOpenPorts\List]",
         '"5061:TCP"="5061:TCP:*:Enabled:Office Communications Server 2007 R2 SIP/TLS"', ""]
write("firewall-2003/FirewallPolicy-2003.reg", "\n".join(lines) + "\n", "utf-16-le", bom=True)

# --- Firewall events of a Front End: XML, wevtutil text, Get-WinEvent | Format-List ---
NS = "http://schemas.microsoft.com/win/2004/08/events/event"
PROVIDER = "Microsoft-Windows-Windows Firewall With Advanced Security"
GUID = "{D1BC9AFF-2ABF-4D71-9146-ECB2A986EB85}"
events = [
    # (id, time, data)
    (2004, "2011-03-14T09:42:31.512813400Z", dict(RuleId="{7A1B2C3D-0001-4000-8000-00000000A001}",
        RuleName="Office Communications Server 2007 R2 Front End (SIP/TLS)", Origin="1",
        ApplicationPath=OCS + r"\RTCSrv.exe", ServiceName="", Direction="1", Protocol="6", LocalPorts="5061",
        RemotePorts="*", Action="3", Profiles="2147483647", LocalAddresses="*", RemoteAddresses="*",
        RemoteMachineAuthorizationList="", RemoteUserAuthorizationList="",
        EmbeddedContext="Office Communications Server 2007 R2", Flags="1", Active="1", EdgeTraversal="0",
        LooseSourceMapped="0", SecurityOptions="0", ModifyingUser="S-1-5-21-1004336348-1177238915-682003330-500",
        ModifyingApplication=r"C:\Windows\System32\wbem\WmiPrvSE.exe", SchemaVersion="522")),
    (2004, "2011-03-14T09:42:31.621104200Z", dict(RuleId="{7A1B2C3D-0002-4000-8000-00000000A002}",
        RuleName="Office Communications Server 2007 R2 IM Conferencing", Origin="1",
        ApplicationPath=OCS + r"\IMMCUSvc.exe", ServiceName="", Direction="1", Protocol="6", LocalPorts="5062",
        RemotePorts="*", Action="3", Profiles="2147483647", LocalAddresses="*", RemoteAddresses="*",
        EmbeddedContext="Office Communications Server 2007 R2", Flags="1", Active="1", EdgeTraversal="0",
        ModifyingUser="S-1-5-18", ModifyingApplication=r"C:\Windows\System32\wbem\WmiPrvSE.exe", SchemaVersion="522")),
    (2004, "2011-03-14T09:42:31.730021900Z", dict(RuleId="{7A1B2C3D-0003-4000-8000-00000000A003}",
        RuleName="Office Communications Server 2007 R2 Web Conferencing", Origin="1",
        ApplicationPath=OCS + r"\DataMCUSvc.exe", ServiceName="", Direction="1", Protocol="6", LocalPorts="8057",
        RemotePorts="*", Action="3", Profiles="1", LocalAddresses="*", RemoteAddresses="*",
        EmbeddedContext="Office Communications Server 2007 R2", Flags="1", Active="1", EdgeTraversal="0",
        ModifyingUser="S-1-5-18", ModifyingApplication=r"C:\Windows\System32\wbem\WmiPrvSE.exe", SchemaVersion="522")),
    (2004, "2011-03-14T09:42:31.845512000Z", dict(RuleId="{7A1B2C3D-0004-4000-8000-00000000A004}",
        RuleName="Office Communications Server 2007 R2 outbound SIP", Origin="1",
        ApplicationPath=OCS + r"\RTCSrv.exe", ServiceName="", Direction="2", Protocol="6", LocalPorts="*",
        RemotePorts="5061", Action="3", Profiles="2147483647", LocalAddresses="*", RemoteAddresses="*",
        EmbeddedContext="Office Communications Server 2007 R2", Flags="1", Active="1", EdgeTraversal="0",
        ModifyingUser="S-1-5-18", ModifyingApplication=r"C:\Windows\System32\wbem\WmiPrvSE.exe", SchemaVersion="522")),
    (2004, "2011-03-14T09:42:31.950117300Z", dict(RuleId="{7A1B2C3D-0005-4000-8000-00000000A005}",
        RuleName="Office Communications Server 2007 R2 Front End (SIP/TCP)", Origin="1",
        ApplicationPath=OCS + r"\RTCSrv.exe", ServiceName="", Direction="1", Protocol="6", LocalPorts="5060",
        RemotePorts="*", Action="3", Profiles="2147483647", LocalAddresses="*", RemoteAddresses="*",
        EmbeddedContext="Office Communications Server 2007 R2", Flags="1", Active="0", EdgeTraversal="0",
        ModifyingUser="S-1-5-18", ModifyingApplication=r"C:\Windows\System32\wbem\WmiPrvSE.exe", SchemaVersion="522")),
    # Modified: the Web Conferencing rule now also takes 8058 from one subnet.
    (2005, "2011-03-15T16:05:12.004417500Z", dict(RuleId="{7A1B2C3D-0003-4000-8000-00000000A003}",
        RuleName="Office Communications Server 2007 R2 Web Conferencing", Origin="1",
        ApplicationPath=OCS + r"\DataMCUSvc.exe", ServiceName="", Direction="1", Protocol="6", LocalPorts="8057,8058",
        RemotePorts="*", Action="3", Profiles="1", LocalAddresses="*", RemoteAddresses="192.0.2.0/255.255.255.0",
        EmbeddedContext="Office Communications Server 2007 R2", Flags="1", Active="1", EdgeTraversal="0",
        ModifyingUser="S-1-5-21-1004336348-1177238915-682003330-500",
        ModifyingApplication=r"C:\Windows\System32\mmc.exe", SchemaVersion="522")),
    # Deleted: the IM Conferencing rule (added, then deleted: not open).
    (2006, "2011-03-16T11:20:45.118220100Z", dict(RuleId="{7A1B2C3D-0002-4000-8000-00000000A002}",
        RuleName="Office Communications Server 2007 R2 IM Conferencing",
        ModifyingUser="S-1-5-21-1004336348-1177238915-682003330-500",
        ModifyingApplication=r"C:\Windows\System32\svchost.exe")),
]

def xml_event(event_id, time, data, record):
    fields = "".join(
        "<Data Name='{}'>{}</Data>".format(k, v.replace("&", "&amp;").replace("<", "&lt;")) if v != "" else
        "<Data Name='{}'></Data>".format(k) for k, v in data.items())
    return ("<Event xmlns='{ns}'><System><Provider Name='{p}' Guid='{g}'/><EventID>{id}</EventID><Version>0</Version>"
            "<Level>4</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x8000020000000000</Keywords>"
            "<TimeCreated SystemTime='{t}'/><EventRecordID>{r}</EventRecordID><Correlation/>"
            "<Execution ProcessID='1404' ThreadID='2212'/><Channel>{p}/Firewall</Channel>"
            "<Computer>fe02.example.com</Computer><Security UserID='S-1-5-19'/></System>"
            "<EventData>{f}</EventData></Event>").format(ns=NS, p=PROVIDER, g=GUID, id=event_id, t=time, r=record,
                                                          f=fields)

xml = "\n".join(xml_event(i, t, d, 410 + n) for n, (i, t, d) in enumerate(events)) + "\n"
# Another channel's event in the same export shape: a service that did not start.
xml += ("<Event xmlns='{ns}'><System><Provider Name='Service Control Manager' Guid='{{555908d1-a6d7-4695-8e1e-26931d2012f4}}' "
        "EventSourceName='Service Control Manager'/><EventID Qualifiers='49152'>7024</EventID><Version>0</Version>"
        "<Level>2</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x8080000000000000</Keywords>"
        "<TimeCreated SystemTime='2011-03-16T11:25:02.000000000Z'/><EventRecordID>8812</EventRecordID><Correlation/>"
        "<Execution ProcessID='512' ThreadID='3120'/><Channel>System</Channel><Computer>fe02.example.com</Computer>"
        "<Security/></System><EventData><Data Name='param1'>Office Communications Server Front-End</Data>"
        "<Data Name='param2'>%%3286842403</Data></EventData>"
        "<RenderingInfo Culture='en-US'><Message>The Office Communications Server Front-End service terminated with "
        "the following service-specific error: 3286842403 (0xC3E93C23).</Message><Level>Error</Level></RenderingInfo></Event>\n").format(ns=NS)
write("firewall-events/Firewall-fe02.xml", xml, crlf=True)

LABELS = [("Rule ID", "RuleId"), ("Rule Name", "RuleName"), ("Origin", "Origin"), ("Active", "Active"),
          ("Direction", "Direction"), ("Profiles", "Profiles"), ("Action", "Action"),
          ("Application Path", "ApplicationPath"), ("Service Name", "ServiceName"), ("Protocol", "Protocol"),
          ("Security Options", "SecurityOptions"), ("Edge Traversal", "EdgeTraversal"),
          ("Modifying User", "ModifyingUser"), ("Modifying Application", "ModifyingApplication")]

def rendered(event_id, data):
    value = dict(data)
    value["Origin"] = "Local"
    value["Active"] = {"1": "Yes", "0": "No"}.get(value.get("Active", ""), "")
    value["Direction"] = {"1": "Inbound", "2": "Outbound"}.get(value.get("Direction", ""), "")
    value["Action"] = {"3": "Allow", "2": "Block"}.get(value.get("Action", ""), "")
    value["Profiles"] = {"2147483647": "All", "1": "Domain"}.get(value.get("Profiles", ""), "")
    value["Protocol"] = {"6": "TCP", "17": "UDP"}.get(value.get("Protocol", ""), "")
    value["SecurityOptions"] = "None"
    value["EdgeTraversal"] = "None"
    if event_id == 2006:
        head = "A rule has been deleted in the Windows Firewall exception list.\n\nDeleted Rule:"
        labels = [("Rule ID", "RuleId"), ("Rule Name", "RuleName")]
    else:
        head = ("A rule has been added to the Windows Firewall exception list.\n\nAdded Rule:" if event_id == 2004
                else "A change has been made to Windows Firewall exception list.\n\nModified Rule:")
        labels = LABELS
    body = "".join("\n\t{}:\t{}".format(label, value.get(key, "")) for label, key in labels)
    return head + body

text = []
for n, (event_id, time, data) in enumerate(events):
    text.append("Event[{}]:\n  Log Name: Microsoft-Windows-Windows Firewall With Advanced Security/Firewall\n"
                "  Source: Microsoft-Windows-Windows Firewall With Advanced Security\n  Date: {}\n"
                "  Event ID: {}\n  Task: N/A\n  Level: Information\n  Opcode: Info\n  Keyword: N/A\n"
                "  User: S-1-5-19\n  User Name: NT AUTHORITY\\LOCAL SERVICE\n  Computer: fe02.example.com\n"
                "  Description: \n{}\n".format(n, time[:23], event_id, rendered(event_id, data)))
write("firewall-events/Firewall-fe02.txt", "\n".join(text))

# Get-WinEvent -LogName "…/Firewall" | Format-List: newest first, the message indented under "Message :".
def us_time(iso):
    date, clock = iso[:10], iso[11:19]
    year, month, day = date.split("-")
    hour, minute, second = (int(x) for x in clock.split(":"))
    marker = "AM" if hour < 12 else "PM"
    hour12 = hour % 12 or 12
    return "{}/{}/{} {}:{:02d}:{:02d} {}".format(int(month), int(day), year, hour12, minute, second, marker)

listed = []
for event_id, time, data in reversed(events):
    message = rendered(event_id, data).split("\n")
    body = ("Message      : " + message[0] + "\n" +
            "\n".join("               " + line for line in message[1:]))
    listed.append("TimeCreated  : {}\nProviderName : {}\nId           : {}\n{}\n".format(
        us_time(time), PROVIDER, event_id, body))
write("firewall-events/Firewall-fe02-list.txt", "\n\n" + "\n".join(listed) + "\n\n", "utf-16-le", bom=True)

# netsh firewall show config verbose = enable (what ocslog collect gathers): each row's scope under it.
verbose = r"""
Domain profile configuration (current):
-------------------------------------------------------------------
Operational mode                  = Enable
Exception mode                    = Enable

Allowed programs configuration for Domain profile:
Mode     Name / Program
-------------------------------------------------------------------
Enable   Office Communications Server 2007 R2 / C:\Program Files\Microsoft Office Communications Server 2007 R2\Server\Core\RTCSrv.exe
         Scope: *

Port configuration for Domain profile:
Port   Protocol  Mode     Name
-------------------------------------------------------------------
5061   TCP       Enable   Office Communications Server 2007 R2 SIP/TLS
         Scope: *
5062   TCP       Enable   Office Communications Server 2007 R2 IM Conferencing
         Scope: 192.0.2.0/255.255.255.0,192.0.2.200
135    TCP       Enable   Office Communications Server 2007 R2 DCOM
         Scope: LocalSubNet
445    TCP       Enable   SMB over TCP
         Scope: LocalSubNet

Ok.
"""
write("firewall-2003/netsh-firewall-show-config-verbose.txt", verbose, "cp1252")
