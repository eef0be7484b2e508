; _k1: out[p, q] = softmax[q](sum[d]((Q[p, d] * K[q, d])))  [loops p,q; threads split p]
; ModuleID = "tlc_k_820c322993622121"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_820c322993622121"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* noalias %".4", double* %".5", i64* %".6") nounwind
{
entry:
  %"acc.sum.2" = alloca double
  %"acc.sum.1" = alloca double
  %"row.sum" = alloca double
  %"acc.sum" = alloca double
  %"row.max" = alloca double
  br label %"body"
body:
  %".8" = getelementptr inbounds i64, i64* %".6", i64 0
  %"int0" = load i64, i64* %".8"
  %".9" = getelementptr inbounds i64, i64* %".6", i64 1
  %"int1" = load i64, i64* %".9"
  %".10" = getelementptr inbounds i64, i64* %".6", i64 2
  %"int2" = load i64, i64* %".10"
  %".11" = getelementptr inbounds i64, i64* %".6", i64 3
  %"int3" = load i64, i64* %".11"
  %".12" = getelementptr inbounds i64, i64* %".6", i64 4
  %"int4" = load i64, i64* %".12"
  %".13" = getelementptr inbounds i64, i64* %".6", i64 5
  %"int5" = load i64, i64* %".13"
  %".14" = getelementptr inbounds i64, i64* %".6", i64 7
  %"int7" = load i64, i64* %".14"
  %".15" = mul nsw i64 1, %"int7"
  %".16" = getelementptr inbounds i64, i64* %".6", i64 9
  %"int9" = load i64, i64* %".16"
  %".17" = mul nsw i64 1, %"int9"
  %".18" = getelementptr inbounds i64, i64* %".6", i64 11
  %"int11" = load i64, i64* %".18"
  %".19" = mul nsw i64 1, %"int11"
  br label %"p.head"
p.head:
  %"p" = phi  i64 [%"int0", %"body"], [%".227", %"q.done"]
  %".21" = icmp slt i64 %"p", %"int1"
  br i1 %".21", label %"p.body", label %"p.done"
p.body:
  store double 0x7ff8000000000000, double* %"row.max"
  br label %"q.row.head"
p.done:
  ret void
q.row.head:
  %"q.row" = phi  i64 [%"int2", %"p.body"], [%".55", %"d.done"]
  %".25" = icmp slt i64 %"q.row", %"int3"
  br i1 %".25", label %"q.row.body", label %"q.row.done"
q.row.body:
  %".27" = load double, double* %"row.max"
  store double              0x0, double* %"acc.sum"
  br label %"d.head"
q.row.done:
  %".57" = load double, double* %"row.max"
  store double              0x0, double* %"row.sum"
  br label %"q.row.head.1"
d.head:
  %"d" = phi  i64 [%"int4", %"q.row.body"], [%".50", %"d.body"]
  %".30" = icmp slt i64 %"d", %"int5"
  br i1 %".30", label %"d.body", label %"d.done"
d.body:
  %".32" = load double, double* %"acc.sum"
  %".33" = add nsw i64 0, %"p"
  %".34" = mul nsw i64 %".33", %".17"
  %".35" = add nsw i64 0, %".34"
  %".36" = add nsw i64 0, %"d"
  %".37" = add nsw i64 %".35", %".36"
  %".38" = getelementptr inbounds double, double* %".3", i64 %".37"
  %".39" = load double, double* %".38"
  %".40" = add nsw i64 0, %"q.row"
  %".41" = mul nsw i64 %".40", %".19"
  %".42" = add nsw i64 0, %".41"
  %".43" = add nsw i64 0, %"d"
  %".44" = add nsw i64 %".42", %".43"
  %".45" = getelementptr inbounds double, double* %".4", i64 %".44"
  %".46" = load double, double* %".45"
  %".47" = fmul double %".39", %".46"
  %".48" = fadd reassoc double %".32", %".47"
  store double %".48", double* %"acc.sum"
  %".50" = add nsw i64 %"d", 1
  br label %"d.head"
d.done:
  %".52" = load double, double* %"acc.sum"
  %".53" = call double @"llvm.maxnum.f64"(double %".27", double %".52")
  store double %".53", double* %"row.max"
  %".55" = add nsw i64 %"q.row", 1
  br label %"q.row.head"
q.row.head.1:
  %"q.row.1" = phi  i64 [%"int2", %"q.row.done"], [%".138", %"d.done.1"]
  %".60" = icmp slt i64 %"q.row.1", %"int3"
  br i1 %".60", label %"q.row.body.1", label %"q.row.done.1"
q.row.body.1:
  %".62" = load double, double* %"row.sum"
  store double              0x0, double* %"acc.sum.1"
  br label %"d.head.1"
q.row.done.1:
  %".140" = load double, double* %"row.sum"
  br label %"q.head"
d.head.1:
  %"d.1" = phi  i64 [%"int4", %"q.row.body.1"], [%".85", %"d.body.1"]
  %".65" = icmp slt i64 %"d.1", %"int5"
  br i1 %".65", label %"d.body.1", label %"d.done.1"
d.body.1:
  %".67" = load double, double* %"acc.sum.1"
  %".68" = add nsw i64 0, %"p"
  %".69" = mul nsw i64 %".68", %".17"
  %".70" = add nsw i64 0, %".69"
  %".71" = add nsw i64 0, %"d.1"
  %".72" = add nsw i64 %".70", %".71"
  %".73" = getelementptr inbounds double, double* %".3", i64 %".72"
  %".74" = load double, double* %".73"
  %".75" = add nsw i64 0, %"q.row.1"
  %".76" = mul nsw i64 %".75", %".19"
  %".77" = add nsw i64 0, %".76"
  %".78" = add nsw i64 0, %"d.1"
  %".79" = add nsw i64 %".77", %".78"
  %".80" = getelementptr inbounds double, double* %".4", i64 %".79"
  %".81" = load double, double* %".80"
  %".82" = fmul double %".74", %".81"
  %".83" = fadd reassoc double %".67", %".82"
  store double %".83", double* %"acc.sum.1"
  %".85" = add nsw i64 %"d.1", 1
  br label %"d.head.1"
d.done.1:
  %".87" = load double, double* %"acc.sum.1"
  %".88" = fsub double %".87", %".57"
  %".89" = call double @"llvm.minnum.f64"(double %".88", double 0x4086300000000000)
  %".90" = call double @"llvm.maxnum.f64"(double %".89", double 0xc087500000000000)
  %".91" = fmul double %".90", 0x3ff71547652b82fe
  %".92" = call double @"llvm.rint.f64"(double %".91")
  %".93" = fmul double %".92", 0x3fe62e42fee00000
  %".94" = fsub double %".90", %".93"
  %".95" = fmul double %".92", 0x3dea39ef35793c76
  %".96" = fsub double %".94", %".95"
  %".97" = fmul double 0x3de6124613a86d09, %".96"
  %".98" = fadd double %".97", 0x3e21eed8eff8d898
  %".99" = fmul double %".98", %".96"
  %".100" = fadd double %".99", 0x3e5ae64567f544e4
  %".101" = fmul double %".100", %".96"
  %".102" = fadd double %".101", 0x3e927e4fb7789f5c
  %".103" = fmul double %".102", %".96"
  %".104" = fadd double %".103", 0x3ec71de3a556c734
  %".105" = fmul double %".104", %".96"
  %".106" = fadd double %".105", 0x3efa01a01a01a01a
  %".107" = fmul double %".106", %".96"
  %".108" = fadd double %".107", 0x3f2a01a01a01a01a
  %".109" = fmul double %".108", %".96"
  %".110" = fadd double %".109", 0x3f56c16c16c16c17
  %".111" = fmul double %".110", %".96"
  %".112" = fadd double %".111", 0x3f81111111111111
  %".113" = fmul double %".112", %".96"
  %".114" = fadd double %".113", 0x3fa5555555555555
  %".115" = fmul double %".114", %".96"
  %".116" = fadd double %".115", 0x3fc5555555555555
  %".117" = fmul double %".116", %".96"
  %".118" = fadd double %".117", 0x3fe0000000000000
  %".119" = fmul double %".118", %".96"
  %".120" = fadd double %".119", 0x3ff0000000000000
  %".121" = fmul double %".120", %".96"
  %".122" = fadd double %".121", 0x3ff0000000000000
  %".123" = fptosi double %".92" to i64
  %".124" = ashr i64 %".123", 1
  %".125" = add i64 %".124", 1023
  %".126" = shl i64 %".125", 52
  %".127" = bitcast i64 %".126" to double
  %".128" = fmul double %".122", %".127"
  %".129" = sub i64 %".123", %".124"
  %".130" = add i64 %".129", 1023
  %".131" = shl i64 %".130", 52
  %".132" = bitcast i64 %".131" to double
  %".133" = fmul double %".128", %".132"
  %".134" = fcmp uno double %".88", %".88"
  %".135" = select  i1 %".134", double %".88", double %".133"
  %".136" = fadd reassoc double %".62", %".135"
  store double %".136", double* %"row.sum"
  %".138" = add nsw i64 %"q.row.1", 1
  br label %"q.row.head.1"
q.head:
  %"q" = phi  i64 [%"int2", %"q.row.done.1"], [%".225", %"d.done.2"]
  %".142" = icmp slt i64 %"q", %"int3"
  br i1 %".142", label %"q.body", label %"q.done"
q.body:
  %".144" = add nsw i64 0, %"p"
  %".145" = mul nsw i64 %".144", %".15"
  %".146" = add nsw i64 0, %".145"
  %".147" = add nsw i64 0, %"q"
  %".148" = add nsw i64 %".146", %".147"
  %".149" = getelementptr inbounds double, double* %".1", i64 %".148"
  store double              0x0, double* %"acc.sum.2"
  br label %"d.head.2"
q.done:
  %".227" = add nsw i64 %"p", 1
  br label %"p.head"
d.head.2:
  %"d.2" = phi  i64 [%"int4", %"q.body"], [%".172", %"d.body.2"]
  %".152" = icmp slt i64 %"d.2", %"int5"
  br i1 %".152", label %"d.body.2", label %"d.done.2"
d.body.2:
  %".154" = load double, double* %"acc.sum.2"
  %".155" = add nsw i64 0, %"p"
  %".156" = mul nsw i64 %".155", %".17"
  %".157" = add nsw i64 0, %".156"
  %".158" = add nsw i64 0, %"d.2"
  %".159" = add nsw i64 %".157", %".158"
  %".160" = getelementptr inbounds double, double* %".3", i64 %".159"
  %".161" = load double, double* %".160"
  %".162" = add nsw i64 0, %"q"
  %".163" = mul nsw i64 %".162", %".19"
  %".164" = add nsw i64 0, %".163"
  %".165" = add nsw i64 0, %"d.2"
  %".166" = add nsw i64 %".164", %".165"
  %".167" = getelementptr inbounds double, double* %".4", i64 %".166"
  %".168" = load double, double* %".167"
  %".169" = fmul double %".161", %".168"
  %".170" = fadd reassoc double %".154", %".169"
  store double %".170", double* %"acc.sum.2"
  %".172" = add nsw i64 %"d.2", 1
  br label %"d.head.2"
d.done.2:
  %".174" = load double, double* %"acc.sum.2"
  %".175" = fsub double %".174", %".57"
  %".176" = call double @"llvm.minnum.f64"(double %".175", double 0x4086300000000000)
  %".177" = call double @"llvm.maxnum.f64"(double %".176", double 0xc087500000000000)
  %".178" = fmul double %".177", 0x3ff71547652b82fe
  %".179" = call double @"llvm.rint.f64"(double %".178")
  %".180" = fmul double %".179", 0x3fe62e42fee00000
  %".181" = fsub double %".177", %".180"
  %".182" = fmul double %".179", 0x3dea39ef35793c76
  %".183" = fsub double %".181", %".182"
  %".184" = fmul double 0x3de6124613a86d09, %".183"
  %".185" = fadd double %".184", 0x3e21eed8eff8d898
  %".186" = fmul double %".185", %".183"
  %".187" = fadd double %".186", 0x3e5ae64567f544e4
  %".188" = fmul double %".187", %".183"
  %".189" = fadd double %".188", 0x3e927e4fb7789f5c
  %".190" = fmul double %".189", %".183"
  %".191" = fadd double %".190", 0x3ec71de3a556c734
  %".192" = fmul double %".191", %".183"
  %".193" = fadd double %".192", 0x3efa01a01a01a01a
  %".194" = fmul double %".193", %".183"
  %".195" = fadd double %".194", 0x3f2a01a01a01a01a
  %".196" = fmul double %".195", %".183"
  %".197" = fadd double %".196", 0x3f56c16c16c16c17
  %".198" = fmul double %".197", %".183"
  %".199" = fadd double %".198", 0x3f81111111111111
  %".200" = fmul double %".199", %".183"
  %".201" = fadd double %".200", 0x3fa5555555555555
  %".202" = fmul double %".201", %".183"
  %".203" = fadd double %".202", 0x3fc5555555555555
  %".204" = fmul double %".203", %".183"
  %".205" = fadd double %".204", 0x3fe0000000000000
  %".206" = fmul double %".205", %".183"
  %".207" = fadd double %".206", 0x3ff0000000000000
  %".208" = fmul double %".207", %".183"
  %".209" = fadd double %".208", 0x3ff0000000000000
  %".210" = fptosi double %".179" to i64
  %".211" = ashr i64 %".210", 1
  %".212" = add i64 %".211", 1023
  %".213" = shl i64 %".212", 52
  %".214" = bitcast i64 %".213" to double
  %".215" = fmul double %".209", %".214"
  %".216" = sub i64 %".210", %".211"
  %".217" = add i64 %".216", 1023
  %".218" = shl i64 %".217", 52
  %".219" = bitcast i64 %".218" to double
  %".220" = fmul double %".215", %".219"
  %".221" = fcmp uno double %".175", %".175"
  %".222" = select  i1 %".221", double %".175", double %".220"
  %".223" = fdiv double %".222", %".140"
  store double %".223", double* %".149"
  %".225" = add nsw i64 %"q", 1
  br label %"q.head"
}

declare double @"llvm.maxnum.f64"(double %".1", double %".2")

declare double @"llvm.minnum.f64"(double %".1", double %".2")

declare double @"llvm.rint.f64"(double %".1")
