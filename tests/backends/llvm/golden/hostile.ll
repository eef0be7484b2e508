; _k1: out[i] = (relu((sum[j']((W'[i, j'] * np[j'])) + rt[i])) * p0)  [loops i; threads split i]
; ModuleID = "tlc_k_03a049f0e09c4a1f"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_03a049f0e09c4a1f"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* noalias %".4", double* noalias %".5", double* %".6", i64* %".7") nounwind
{
entry:
  %"acc.sum" = alloca double
  br label %"body"
body:
  %".9" = getelementptr inbounds i64, i64* %".7", i64 0
  %"int0" = load i64, i64* %".9"
  %".10" = getelementptr inbounds i64, i64* %".7", i64 1
  %"int1" = load i64, i64* %".10"
  %".11" = getelementptr inbounds i64, i64* %".7", i64 2
  %"int2" = load i64, i64* %".11"
  %".12" = getelementptr inbounds i64, i64* %".7", i64 3
  %"int3" = load i64, i64* %".12"
  %".13" = getelementptr inbounds i64, i64* %".7", i64 6
  %"int6" = load i64, i64* %".13"
  %".14" = mul nsw i64 1, %"int6"
  br label %"i.head"
i.head:
  %"i" = phi  i64 [%"int0", %"body"], [%".54", %"j'.done"]
  %".16" = icmp slt i64 %"i", %"int1"
  br i1 %".16", label %"i.body", label %"i.done"
i.body:
  %".18" = add nsw i64 0, %"i"
  %".19" = add nsw i64 0, %".18"
  %".20" = getelementptr inbounds double, double* %".1", i64 %".19"
  store double              0x0, double* %"acc.sum"
  br label %"j'.head"
i.done:
  ret void
"j'.head":
  %"j'" = phi  i64 [%"int2", %"i.body"], [%".40", %"j'.body"]
  %".23" = icmp slt i64 %"j'", %"int3"
  br i1 %".23", label %"j'.body", label %"j'.done"
"j'.body":
  %".25" = load double, double* %"acc.sum"
  %".26" = add nsw i64 0, %"i"
  %".27" = mul nsw i64 %".26", %".14"
  %".28" = add nsw i64 0, %".27"
  %".29" = add nsw i64 0, %"j'"
  %".30" = add nsw i64 %".28", %".29"
  %".31" = getelementptr inbounds double, double* %".3", i64 %".30"
  %".32" = load double, double* %".31"
  %".33" = add nsw i64 0, %"j'"
  %".34" = add nsw i64 0, %".33"
  %".35" = getelementptr inbounds double, double* %".4", i64 %".34"
  %".36" = load double, double* %".35"
  %".37" = fmul double %".32", %".36"
  %".38" = fadd reassoc double %".25", %".37"
  store double %".38", double* %"acc.sum"
  %".40" = add nsw i64 %"j'", 1
  br label %"j'.head"
"j'.done":
  %".42" = load double, double* %"acc.sum"
  %".43" = add nsw i64 0, %"i"
  %".44" = add nsw i64 0, %".43"
  %".45" = getelementptr inbounds double, double* %".5", i64 %".44"
  %".46" = load double, double* %".45"
  %".47" = fadd double %".42", %".46"
  %".48" = fcmp ugt double %".47",              0x0
  %".49" = select  i1 %".48", double %".47", double              0x0
  %".50" = getelementptr inbounds double, double* %".6", i64 0
  %".51" = load double, double* %".50"
  %".52" = fmul double %".49", %".51"
  store double %".52", double* %".20"
  %".54" = add nsw i64 %"i", 1
  br label %"i.head"
}

; _k2: out[i] = max[j'](W'[i, j'])  [loops i; threads split i]
; ModuleID = "tlc_k_89ac7e271560af57"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_89ac7e271560af57"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* %".4", i64* %".5") nounwind
{
entry:
  %"acc.max" = alloca double
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
  %".11" = getelementptr inbounds i64, i64* %".5", i64 6
  %"int6" = load i64, i64* %".11"
  %".12" = mul nsw i64 1, %"int6"
  br label %"i.head"
i.head:
  %"i" = phi  i64 [%"int0", %"body"], [%".37", %"j'.done"]
  %".14" = icmp slt i64 %"i", %"int1"
  br i1 %".14", label %"i.body", label %"i.done"
i.body:
  %".16" = add nsw i64 0, %"i"
  %".17" = add nsw i64 0, %".16"
  %".18" = getelementptr inbounds double, double* %".1", i64 %".17"
  store double 0x7ff8000000000000, double* %"acc.max"
  br label %"j'.head"
i.done:
  ret void
"j'.head":
  %"j'" = phi  i64 [%"int2", %"i.body"], [%".33", %"j'.body"]
  %".21" = icmp slt i64 %"j'", %"int3"
  br i1 %".21", label %"j'.body", label %"j'.done"
"j'.body":
  %".23" = load double, double* %"acc.max"
  %".24" = add nsw i64 0, %"i"
  %".25" = mul nsw i64 %".24", %".12"
  %".26" = add nsw i64 0, %".25"
  %".27" = add nsw i64 0, %"j'"
  %".28" = add nsw i64 %".26", %".27"
  %".29" = getelementptr inbounds double, double* %".3", i64 %".28"
  %".30" = load double, double* %".29"
  %".31" = call double @"llvm.maxnum.f64"(double %".23", double %".30")
  store double %".31", double* %"acc.max"
  %".33" = add nsw i64 %"j'", 1
  br label %"j'.head"
"j'.done":
  %".35" = load double, double* %"acc.max"
  store double %".35", double* %".18"
  %".37" = add nsw i64 %"i", 1
  br label %"i.head"
}

declare double @"llvm.maxnum.f64"(double %".1", double %".2")

; _k3: out[i] += sum[j']((W'[i, j'] - _[i]))  [loops i; threads split i]
; ModuleID = "tlc_k_cffc439a49789f87"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_cffc439a49789f87"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* noalias %".4", double* %".5", i64* %".6") nounwind
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
  %".12" = getelementptr inbounds i64, i64* %".6", i64 6
  %"int6" = load i64, i64* %".12"
  %".13" = mul nsw i64 1, %"int6"
  %".14" = sub i64 %"int3", %"int2"
  %".15" = mul i64 1, %".14"
  %".16" = sitofp i64 %".15" to double
  br label %"i.head"
i.head:
  %"i" = phi  i64 [%"int0", %"body"], [%".54", %"j'.done"]
  %".18" = icmp slt i64 %"i", %"int1"
  br i1 %".18", label %"i.body", label %"i.done"
i.body:
  %".20" = add nsw i64 0, %"i"
  %".21" = add nsw i64 0, %".20"
  %".22" = getelementptr inbounds double, double* %".1", i64 %".21"
  %".23" = load double, double* %".22"
  store double              0x0, double* %"acc.sum"
  br label %"j'.head"
i.done:
  ret void
"j'.head":
  %"j'" = phi  i64 [%"int2", %"i.body"], [%".43", %"j'.body"]
  %".26" = icmp slt i64 %"j'", %"int3"
  br i1 %".26", label %"j'.body", label %"j'.done"
"j'.body":
  %".28" = load double, double* %"acc.sum"
  %".29" = add nsw i64 0, %"i"
  %".30" = mul nsw i64 %".29", %".13"
  %".31" = add nsw i64 0, %".30"
  %".32" = add nsw i64 0, %"j'"
  %".33" = add nsw i64 %".31", %".32"
  %".34" = getelementptr inbounds double, double* %".3", i64 %".33"
  %".35" = load double, double* %".34"
  %".36" = add nsw i64 0, %"i"
  %".37" = add nsw i64 0, %".36"
  %".38" = getelementptr inbounds double, double* %".4", i64 %".37"
  %".39" = load double, double* %".38"
  %".40" = fsub double %".35", %".39"
  %".41" = fadd reassoc double %".28", %".40"
  store double %".41", double* %"acc.sum"
  %".43" = add nsw i64 %"j'", 1
  br label %"j'.head"
"j'.done":
  %".45" = load double, double* %"acc.sum"
  %".46" = fadd double %".23", %".45"
  store double %".46", double* %".22"
  %".48" = add nsw i64 0, %"i"
  %".49" = add nsw i64 0, %".48"
  %".50" = getelementptr inbounds double, double* %".2", i64 %".49"
  %".51" = load double, double* %".50"
  %".52" = fadd double %".51", %".16"
  store double %".52", double* %".50"
  %".54" = add nsw i64 %"i", 1
  br label %"i.head"
}
