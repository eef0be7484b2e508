; _k1: out[i2, i0] = sum[i1]((W1[i0, i1] * X[i2, i1]))  [loops i2,i0; threads split i2]
; ModuleID = "tlc_k_69c743aa684cf5dc"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_69c743aa684cf5dc"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* noalias %".4", double* %".5", i64* %".6") nounwind
{
entry:
  %"acc.sum" = alloca double
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
  br label %"i2.head"
i2.head:
  %"i2" = phi  i64 [%"int0", %"body"], [%".60", %"i0.done"]
  %".21" = icmp slt i64 %"i2", %"int1"
  br i1 %".21", label %"i2.body", label %"i2.done"
i2.body:
  br label %"i0.head"
i2.done:
  ret void
i0.head:
  %"i0" = phi  i64 [%"int2", %"i2.body"], [%".58", %"i1.done"]
  %".24" = icmp slt i64 %"i0", %"int3"
  br i1 %".24", label %"i0.body", label %"i0.done"
i0.body:
  %".26" = add nsw i64 0, %"i2"
  %".27" = mul nsw i64 %".26", %".15"
  %".28" = add nsw i64 0, %".27"
  %".29" = add nsw i64 0, %"i0"
  %".30" = add nsw i64 %".28", %".29"
  %".31" = getelementptr inbounds double, double* %".1", i64 %".30"
  store double              0x0, double* %"acc.sum"
  br label %"i1.head"
i0.done:
  %".60" = add nsw i64 %"i2", 1
  br label %"i2.head"
i1.head:
  %"i1" = phi  i64 [%"int4", %"i0.body"], [%".54", %"i1.body"]
  %".34" = icmp slt i64 %"i1", %"int5"
  br i1 %".34", label %"i1.body", label %"i1.done"
i1.body:
  %".36" = load double, double* %"acc.sum"
  %".37" = add nsw i64 0, %"i0"
  %".38" = mul nsw i64 %".37", %".17"
  %".39" = add nsw i64 0, %".38"
  %".40" = add nsw i64 0, %"i1"
  %".41" = add nsw i64 %".39", %".40"
  %".42" = getelementptr inbounds double, double* %".3", i64 %".41"
  %".43" = load double, double* %".42"
  %".44" = add nsw i64 0, %"i2"
  %".45" = mul nsw i64 %".44", %".19"
  %".46" = add nsw i64 0, %".45"
  %".47" = add nsw i64 0, %"i1"
  %".48" = add nsw i64 %".46", %".47"
  %".49" = getelementptr inbounds double, double* %".4", i64 %".48"
  %".50" = load double, double* %".49"
  %".51" = fmul double %".43", %".50"
  %".52" = fadd reassoc double %".36", %".51"
  store double %".52", double* %"acc.sum"
  %".54" = add nsw i64 %"i1", 1
  br label %"i1.head"
i1.done:
  %".56" = load double, double* %"acc.sum"
  store double %".56", double* %".31"
  %".58" = add nsw i64 %"i0", 1
  br label %"i0.head"
}

; _k2: out[b, i] = (sig(_cse1[b, i]) * p0)  [loops b,i; threads split b]
; ModuleID = "tlc_k_669eaadcd4651238"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_669eaadcd4651238"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* %".4", i64* %".5") nounwind
{
entry:
  br label %"body"
body:
  %".7" = getelementptr inbounds i64, i64* %".5", i64 0
  %"int0" = load i64, i64* %".7"
  %".8" = getelementptr inbounds i64, i64* %".5", i64 1
  %"int1" = load i64, i64* %".8"
  %".9" = getelementptr inbounds i64, i64* %".5", i64 2
  %"int2" = load i64, i64* %".9"
  %".10" = getelementptr inbounds i64, i64* %".5", i64 3
  %"int3" = load i64, i64* %".10"
  %".11" = getelementptr inbounds i64, i64* %".5", i64 5
  %"int5" = load i64, i64* %".11"
  %".12" = mul nsw i64 1, %"int5"
  %".13" = getelementptr inbounds i64, i64* %".5", i64 7
  %"int7" = load i64, i64* %".13"
  %".14" = mul nsw i64 1, %"int7"
  br label %"b.head"
b.head:
  %"b" = phi  i64 [%"int0", %"body"], [%".94", %"i.done"]
  %".16" = icmp slt i64 %"b", %"int1"
  br i1 %".16", label %"b.body", label %"b.done"
b.body:
  br label %"i.head"
b.done:
  ret void
i.head:
  %"i" = phi  i64 [%"int2", %"b.body"], [%".92", %"i.body"]
  %".19" = icmp slt i64 %"i", %"int3"
  br i1 %".19", label %"i.body", label %"i.done"
i.body:
  %".21" = add nsw i64 0, %"b"
  %".22" = mul nsw i64 %".21", %".12"
  %".23" = add nsw i64 0, %".22"
  %".24" = add nsw i64 0, %"i"
  %".25" = add nsw i64 %".23", %".24"
  %".26" = getelementptr inbounds double, double* %".1", i64 %".25"
  %".27" = add nsw i64 0, %"b"
  %".28" = mul nsw i64 %".27", %".14"
  %".29" = add nsw i64 0, %".28"
  %".30" = add nsw i64 0, %"i"
  %".31" = add nsw i64 %".29", %".30"
  %".32" = getelementptr inbounds double, double* %".3", i64 %".31"
  %".33" = load double, double* %".32"
  %".34" = call double @"llvm.fabs.f64"(double %".33")
  %".35" = fneg double %".34"
  %".36" = call double @"llvm.minnum.f64"(double %".35", double 0x4086300000000000)
  %".37" = call double @"llvm.maxnum.f64"(double %".36", double 0xc087500000000000)
  %".38" = fmul double %".37", 0x3ff71547652b82fe
  %".39" = call double @"llvm.rint.f64"(double %".38")
  %".40" = fmul double %".39", 0x3fe62e42fee00000
  %".41" = fsub double %".37", %".40"
  %".42" = fmul double %".39", 0x3dea39ef35793c76
  %".43" = fsub double %".41", %".42"
  %".44" = fmul double 0x3de6124613a86d09, %".43"
  %".45" = fadd double %".44", 0x3e21eed8eff8d898
  %".46" = fmul double %".45", %".43"
  %".47" = fadd double %".46", 0x3e5ae64567f544e4
  %".48" = fmul double %".47", %".43"
  %".49" = fadd double %".48", 0x3e927e4fb7789f5c
  %".50" = fmul double %".49", %".43"
  %".51" = fadd double %".50", 0x3ec71de3a556c734
  %".52" = fmul double %".51", %".43"
  %".53" = fadd double %".52", 0x3efa01a01a01a01a
  %".54" = fmul double %".53", %".43"
  %".55" = fadd double %".54", 0x3f2a01a01a01a01a
  %".56" = fmul double %".55", %".43"
  %".57" = fadd double %".56", 0x3f56c16c16c16c17
  %".58" = fmul double %".57", %".43"
  %".59" = fadd double %".58", 0x3f81111111111111
  %".60" = fmul double %".59", %".43"
  %".61" = fadd double %".60", 0x3fa5555555555555
  %".62" = fmul double %".61", %".43"
  %".63" = fadd double %".62", 0x3fc5555555555555
  %".64" = fmul double %".63", %".43"
  %".65" = fadd double %".64", 0x3fe0000000000000
  %".66" = fmul double %".65", %".43"
  %".67" = fadd double %".66", 0x3ff0000000000000
  %".68" = fmul double %".67", %".43"
  %".69" = fadd double %".68", 0x3ff0000000000000
  %".70" = fptosi double %".39" to i64
  %".71" = ashr i64 %".70", 1
  %".72" = add i64 %".71", 1023
  %".73" = shl i64 %".72", 52
  %".74" = bitcast i64 %".73" to double
  %".75" = fmul double %".69", %".74"
  %".76" = sub i64 %".70", %".71"
  %".77" = add i64 %".76", 1023
  %".78" = shl i64 %".77", 52
  %".79" = bitcast i64 %".78" to double
  %".80" = fmul double %".75", %".79"
  %".81" = fcmp uno double %".35", %".35"
  %".82" = select  i1 %".81", double %".35", double %".80"
  %".83" = fadd double 0x3ff0000000000000, %".82"
  %".84" = fcmp oge double %".33",              0x0
  %".85" = fdiv double 0x3ff0000000000000, %".83"
  %".86" = fdiv double %".82", %".83"
  %".87" = select  i1 %".84", double %".85", double %".86"
  %".88" = getelementptr inbounds double, double* %".4", i64 0
  %".89" = load double, double* %".88"
  %".90" = fmul double %".87", %".89"
  store double %".90", double* %".26"
  %".92" = add nsw i64 %"i", 1
  br label %"i.head"
i.done:
  %".94" = add nsw i64 %"b", 1
  br label %"b.head"
}

declare double @"llvm.fabs.f64"(double %".1")

declare double @"llvm.minnum.f64"(double %".1", double %".2")

declare double @"llvm.maxnum.f64"(double %".1", double %".2")

declare double @"llvm.rint.f64"(double %".1")

; _k3: out[b, k] = sig((sum[i]((W2[k, i] * relu((_cse1[b, i] + B1[i])))) + B2[k]))  [loops b,k; threads split b]
; ModuleID = "tlc_k_78765177bbb7f2f2"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_78765177bbb7f2f2"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* noalias %".4", double* noalias %".5", double* noalias %".6", double* %".7", i64* %".8") nounwind
{
entry:
  %"acc.sum" = alloca double
  br label %"body"
body:
  %".10" = getelementptr inbounds i64, i64* %".8", i64 0
  %"int0" = load i64, i64* %".10"
  %".11" = getelementptr inbounds i64, i64* %".8", i64 1
  %"int1" = load i64, i64* %".11"
  %".12" = getelementptr inbounds i64, i64* %".8", i64 2
  %"int2" = load i64, i64* %".12"
  %".13" = getelementptr inbounds i64, i64* %".8", i64 3
  %"int3" = load i64, i64* %".13"
  %".14" = getelementptr inbounds i64, i64* %".8", i64 4
  %"int4" = load i64, i64* %".14"
  %".15" = getelementptr inbounds i64, i64* %".8", i64 5
  %"int5" = load i64, i64* %".15"
  %".16" = getelementptr inbounds i64, i64* %".8", i64 7
  %"int7" = load i64, i64* %".16"
  %".17" = mul nsw i64 1, %"int7"
  %".18" = getelementptr inbounds i64, i64* %".8", i64 9
  %"int9" = load i64, i64* %".18"
  %".19" = mul nsw i64 1, %"int9"
  %".20" = getelementptr inbounds i64, i64* %".8", i64 11
  %"int11" = load i64, i64* %".20"
  %".21" = mul nsw i64 1, %"int11"
  br label %"b.head"
b.head:
  %"b" = phi  i64 [%"int0", %"body"], [%".128", %"k.done"]
  %".23" = icmp slt i64 %"b", %"int1"
  br i1 %".23", label %"b.body", label %"b.done"
b.body:
  br label %"k.head"
b.done:
  ret void
k.head:
  %"k" = phi  i64 [%"int2", %"b.body"], [%".126", %"i.done"]
  %".26" = icmp slt i64 %"k", %"int3"
  br i1 %".26", label %"k.body", label %"k.done"
k.body:
  %".28" = add nsw i64 0, %"b"
  %".29" = mul nsw i64 %".28", %".17"
  %".30" = add nsw i64 0, %".29"
  %".31" = add nsw i64 0, %"k"
  %".32" = add nsw i64 %".30", %".31"
  %".33" = getelementptr inbounds double, double* %".1", i64 %".32"
  store double              0x0, double* %"acc.sum"
  br label %"i.head"
k.done:
  %".128" = add nsw i64 %"b", 1
  br label %"b.head"
i.head:
  %"i" = phi  i64 [%"int4", %"k.body"], [%".63", %"i.body"]
  %".36" = icmp slt i64 %"i", %"int5"
  br i1 %".36", label %"i.body", label %"i.done"
i.body:
  %".38" = load double, double* %"acc.sum"
  %".39" = add nsw i64 0, %"k"
  %".40" = mul nsw i64 %".39", %".19"
  %".41" = add nsw i64 0, %".40"
  %".42" = add nsw i64 0, %"i"
  %".43" = add nsw i64 %".41", %".42"
  %".44" = getelementptr inbounds double, double* %".3", i64 %".43"
  %".45" = load double, double* %".44"
  %".46" = add nsw i64 0, %"b"
  %".47" = mul nsw i64 %".46", %".21"
  %".48" = add nsw i64 0, %".47"
  %".49" = add nsw i64 0, %"i"
  %".50" = add nsw i64 %".48", %".49"
  %".51" = getelementptr inbounds double, double* %".4", i64 %".50"
  %".52" = load double, double* %".51"
  %".53" = add nsw i64 0, %"i"
  %".54" = add nsw i64 0, %".53"
  %".55" = getelementptr inbounds double, double* %".5", i64 %".54"
  %".56" = load double, double* %".55"
  %".57" = fadd double %".52", %".56"
  %".58" = fcmp ugt double %".57",              0x0
  %".59" = select  i1 %".58", double %".57", double              0x0
  %".60" = fmul double %".45", %".59"
  %".61" = fadd reassoc double %".38", %".60"
  store double %".61", double* %"acc.sum"
  %".63" = add nsw i64 %"i", 1
  br label %"i.head"
i.done:
  %".65" = load double, double* %"acc.sum"
  %".66" = add nsw i64 0, %"k"
  %".67" = add nsw i64 0, %".66"
  %".68" = getelementptr inbounds double, double* %".6", i64 %".67"
  %".69" = load double, double* %".68"
  %".70" = fadd double %".65", %".69"
  %".71" = call double @"llvm.fabs.f64"(double %".70")
  %".72" = fneg double %".71"
  %".73" = call double @"llvm.minnum.f64"(double %".72", double 0x4086300000000000)
  %".74" = call double @"llvm.maxnum.f64"(double %".73", double 0xc087500000000000)
  %".75" = fmul double %".74", 0x3ff71547652b82fe
  %".76" = call double @"llvm.rint.f64"(double %".75")
  %".77" = fmul double %".76", 0x3fe62e42fee00000
  %".78" = fsub double %".74", %".77"
  %".79" = fmul double %".76", 0x3dea39ef35793c76
  %".80" = fsub double %".78", %".79"
  %".81" = fmul double 0x3de6124613a86d09, %".80"
  %".82" = fadd double %".81", 0x3e21eed8eff8d898
  %".83" = fmul double %".82", %".80"
  %".84" = fadd double %".83", 0x3e5ae64567f544e4
  %".85" = fmul double %".84", %".80"
  %".86" = fadd double %".85", 0x3e927e4fb7789f5c
  %".87" = fmul double %".86", %".80"
  %".88" = fadd double %".87", 0x3ec71de3a556c734
  %".89" = fmul double %".88", %".80"
  %".90" = fadd double %".89", 0x3efa01a01a01a01a
  %".91" = fmul double %".90", %".80"
  %".92" = fadd double %".91", 0x3f2a01a01a01a01a
  %".93" = fmul double %".92", %".80"
  %".94" = fadd double %".93", 0x3f56c16c16c16c17
  %".95" = fmul double %".94", %".80"
  %".96" = fadd double %".95", 0x3f81111111111111
  %".97" = fmul double %".96", %".80"
  %".98" = fadd double %".97", 0x3fa5555555555555
  %".99" = fmul double %".98", %".80"
  %".100" = fadd double %".99", 0x3fc5555555555555
  %".101" = fmul double %".100", %".80"
  %".102" = fadd double %".101", 0x3fe0000000000000
  %".103" = fmul double %".102", %".80"
  %".104" = fadd double %".103", 0x3ff0000000000000
  %".105" = fmul double %".104", %".80"
  %".106" = fadd double %".105", 0x3ff0000000000000
  %".107" = fptosi double %".76" to i64
  %".108" = ashr i64 %".107", 1
  %".109" = add i64 %".108", 1023
  %".110" = shl i64 %".109", 52
  %".111" = bitcast i64 %".110" to double
  %".112" = fmul double %".106", %".111"
  %".113" = sub i64 %".107", %".108"
  %".114" = add i64 %".113", 1023
  %".115" = shl i64 %".114", 52
  %".116" = bitcast i64 %".115" to double
  %".117" = fmul double %".112", %".116"
  %".118" = fcmp uno double %".72", %".72"
  %".119" = select  i1 %".118", double %".72", double %".117"
  %".120" = fadd double 0x3ff0000000000000, %".119"
  %".121" = fcmp oge double %".70",              0x0
  %".122" = fdiv double 0x3ff0000000000000, %".120"
  %".123" = fdiv double %".119", %".120"
  %".124" = select  i1 %".121", double %".122", double %".123"
  store double %".124", double* %".33"
  %".126" = add nsw i64 %"k", 1
  br label %"k.head"
}

declare double @"llvm.fabs.f64"(double %".1")

declare double @"llvm.minnum.f64"(double %".1", double %".2")

declare double @"llvm.maxnum.f64"(double %".1", double %".2")

declare double @"llvm.rint.f64"(double %".1")
