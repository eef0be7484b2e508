; _closure: transitive closure: bitset rows ORed over strong components, sinks first  [threads split words]
; ModuleID = "tlc_closure_words_v8"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define internal void @"tlc_closure_words_v8_or_row"(i64* noalias %".1", i64* noalias %".2", i64 %".3", i64 %".4") alwaysinline nounwind
{
entry:
  br label %"w_test"
w_test:
  %"w" = phi  i64 [%".3", %"entry"], [%".15", %"w_body"]
  %".7" = icmp slt i64 %"w", %".4"
  br i1 %".7", label %"w_body", label %"w_done"
w_body:
  %".9" = getelementptr i64, i64* %".1", i64 %"w"
  %".10" = load i64, i64* %".9"
  %".11" = getelementptr i64, i64* %".2", i64 %"w"
  %".12" = load i64, i64* %".11"
  %".13" = or i64 %".10", %".12"
  store i64 %".13", i64* %".9"
  %".15" = add nsw i64 %"w", 1
  br label %"w_test"
w_done:
  ret void
}

define void @"tlc_closure_words_v8"(i64* %".1", i64* %".2", i64* %".3", i64* %".4", i64* %".5", i64* %".6", i64* %".7", i64* %".8", i64 %".9", i64 %".10", i64 %".11", i64 %".12") nounwind
{
entry:
  %"low" = alloca i64
  %"high" = alloca i64
  br label %"claim"
claim:
  %".15" = atomicrmw add i64* %".8", i64 16 monotonic
  %".16" = icmp slt i64 %".15", %".9"
  br i1 %".16", label %"component", label %"finished"
component:
  %".18" = add nsw i64 %".15", 16
  %".19" = icmp slt i64 %".18", %".9"
  %".20" = select  i1 %".19", i64 %".18", i64 %".9"
  br label %"k_test"
finished:
  ret void
k_test:
  %"k" = phi  i64 [%".15", %"component"], [%".106", %"j_done"]
  %".22" = icmp slt i64 %"k", %".20"
  br i1 %".22", label %"k_body", label %"k_done"
k_body:
  %".24" = getelementptr i64, i64* %".2", i64 %"k"
  %".25" = load i64, i64* %".24"
  %".26" = mul nsw i64 %".25", %".10"
  %".27" = getelementptr i64, i64* %".1", i64 %".26"
  %".28" = getelementptr i64, i64* %".3", i64 %".25"
  %".29" = load i64, i64* %".28"
  %".30" = add nsw i64 %".25", 1
  %".31" = getelementptr i64, i64* %".3", i64 %".30"
  %".32" = load i64, i64* %".31"
  %".33" = mul nsw i64 %".25", 2
  %".34" = add nsw i64 %".33", 0
  %".35" = getelementptr i64, i64* %".6", i64 %".34"
  %".36" = add nsw i64 %".33", 1
  %".37" = getelementptr i64, i64* %".6", i64 %".36"
  %".38" = load atomic i64, i64* %".35" monotonic, align 8
  store i64 %".38", i64* %"low"
  %".40" = load atomic i64, i64* %".37" monotonic, align 8
  store i64 %".40", i64* %"high"
  br label %"j_test"
k_done:
  br label %"claim"
j_test:
  %"j" = phi  i64 [%".29", %"k_body"], [%".98", %"ready.endif"]
  %".43" = icmp slt i64 %"j", %".32"
  br i1 %".43", label %"j_body", label %"j_done"
j_body:
  %".45" = add nsw i64 %".29", %".32"
  %".46" = sub nsw i64 %".45", 1
  %".47" = sub nsw i64 %".46", %"j"
  %".48" = getelementptr i64, i64* %".4", i64 %".47"
  %".49" = load i64, i64* %".48"
  %".50" = getelementptr i64, i64* %".7", i64 %".49"
  br label %"look"
j_done:
  %".100" = load i64, i64* %"low"
  %".101" = load i64, i64* %"high"
  store atomic i64 %".100", i64* %".35" monotonic, align 8
  store atomic i64 %".101", i64* %".37" monotonic, align 8
  %".104" = getelementptr i64, i64* %".7", i64 %".25"
  store atomic i64 1, i64* %".104" release, align 8
  %".106" = add nsw i64 %"k", 1
  br label %"k_test"
look:
  %".52" = load atomic i64, i64* %".50" acquire, align 8
  %".53" = icmp ne i64 %".52", 0
  br i1 %".53", label %"ready", label %"pause"
pause:
  %".55" = call i32 @"sched_yield"()
  br label %"look"
ready:
  %".57" = getelementptr i64, i64* %".5", i64 %".49"
  %".58" = load i64, i64* %".57"
  %".59" = ashr i64 %".58", 6
  %".60" = icmp sge i64 %".58", 0
  %".61" = icmp sge i64 %".59", %".11"
  %".62" = icmp slt i64 %".59", %".12"
  %".63" = and i1 %".61", %".62"
  %".64" = and i1 %".60", %".63"
  %".65" = select  i1 %".64", i64 %".59", i64 %".11"
  %".66" = getelementptr i64, i64* %".27", i64 %".65"
  %".67" = load i64, i64* %".66"
  %".68" = and i64 %".58", 63
  %".69" = lshr i64 %".67", %".68"
  %".70" = and i64 %".69", 1
  %".71" = icmp ne i64 %".70", 0
  %".72" = and i1 %".64", %".71"
  %".73" = xor i1 %".72", -1
  br i1 %".73", label %"ready.if", label %"ready.endif"
ready.if:
  %".75" = mul nsw i64 %".49", 2
  %".76" = add nsw i64 %".75", 0
  %".77" = getelementptr i64, i64* %".6", i64 %".76"
  %".78" = add nsw i64 %".75", 1
  %".79" = getelementptr i64, i64* %".6", i64 %".78"
  %".80" = load atomic i64, i64* %".77" monotonic, align 8
  %".81" = load atomic i64, i64* %".79" monotonic, align 8
  %".82" = mul nsw i64 %".49", %".10"
  %".83" = getelementptr i64, i64* %".1", i64 %".82"
  %".84" = icmp sgt i64 %".80", %".11"
  %".85" = select  i1 %".84", i64 %".80", i64 %".11"
  %".86" = icmp slt i64 %".81", %".12"
  %".87" = select  i1 %".86", i64 %".81", i64 %".12"
  call void @"tlc_closure_words_v8_or_row"(i64* %".27", i64* %".83", i64 %".85", i64 %".87")
  %".89" = load i64, i64* %"low"
  %".90" = icmp slt i64 %".89", %".80"
  %".91" = select  i1 %".90", i64 %".89", i64 %".80"
  store i64 %".91", i64* %"low"
  %".93" = load i64, i64* %"high"
  %".94" = icmp sgt i64 %".93", %".81"
  %".95" = select  i1 %".94", i64 %".93", i64 %".81"
  store i64 %".95", i64* %"high"
  br label %"ready.endif"
ready.endif:
  %".98" = add nsw i64 %"j", 1
  br label %"j_test"
}

declare i32 @"sched_yield"()

define void @"tlc_closure_words_v8_rows"(i8* noalias %".1", i64* noalias %".2", i64* %".3", i64 %".4", i64 %".5", i64 %".6", i64 %".7") nounwind optsize
{
entry:
  %".9" = ashr i64 %".4", 6
  br label %"i_test"
i_test:
  %"i" = phi  i64 [%".6", %"entry"], [%".53", %"j_done"]
  %".11" = icmp slt i64 %"i", %".7"
  br i1 %".11", label %"i_body", label %"i_done"
i_body:
  %".13" = getelementptr i64, i64* %".3", i64 %"i"
  %".14" = load i64, i64* %".13"
  %".15" = mul nsw i64 %".14", %".5"
  %".16" = getelementptr i64, i64* %".2", i64 %".15"
  %".17" = mul nsw i64 %"i", %".4"
  %".18" = getelementptr i8, i8* %".1", i64 %".17"
  br label %"w_test"
i_done:
  ret void
w_test:
  %"w" = phi  i64 [0, %"i_body"], [%".36", %"bit_done"]
  %".20" = icmp slt i64 %"w", %".9"
  br i1 %".20", label %"w_body", label %"w_done"
w_body:
  %".22" = getelementptr i64, i64* %".16", i64 %"w"
  %".23" = load i64, i64* %".22"
  %".24" = shl i64 %"w", 6
  %".25" = getelementptr i8, i8* %".18", i64 %".24"
  br label %"bit_test"
w_done:
  %".38" = shl i64 %".9", 6
  br label %"j_test"
bit_test:
  %"bit" = phi  i64 [0, %"w_body"], [%".34", %"bit_body"]
  %".27" = icmp slt i64 %"bit", 64
  br i1 %".27", label %"bit_body", label %"bit_done"
bit_body:
  %".29" = lshr i64 %".23", %"bit"
  %".30" = and i64 %".29", 1
  %".31" = trunc i64 %".30" to i8
  %".32" = getelementptr i8, i8* %".25", i64 %"bit"
  store i8 %".31", i8* %".32"
  %".34" = add nsw i64 %"bit", 1
  br label %"bit_test"
bit_done:
  %".36" = add nsw i64 %"w", 1
  br label %"w_test"
j_test:
  %"j" = phi  i64 [%".38", %"w_done"], [%".51", %"j_body"]
  %".40" = icmp slt i64 %"j", %".4"
  br i1 %".40", label %"j_body", label %"j_done"
j_body:
  %".42" = ashr i64 %"j", 6
  %".43" = getelementptr i64, i64* %".16", i64 %".42"
  %".44" = load i64, i64* %".43"
  %".45" = and i64 %"j", 63
  %".46" = lshr i64 %".44", %".45"
  %".47" = and i64 %".46", 1
  %".48" = trunc i64 %".47" to i8
  %".49" = getelementptr i8, i8* %".18", i64 %"j"
  store i8 %".48", i8* %".49"
  %".51" = add nsw i64 %"j", 1
  br label %"j_test"
j_done:
  %".53" = add nsw i64 %"i", 1
  br label %"i_test"
}

define void @"tlc_closure_words_v8_reach"(i64* %".1", i64* %".2", i64* %".3", i64* %".4", i64* %".5", i64* %".6", i64* %".7", i64 %".8", i64 %".9", i64 %".10") nounwind optsize
{
entry:
  %".12" = icmp ne i64 %".10", 0
  %"depth" = alloca i64
  %"found" = alloca i64
  br label %"s_test"
s_test:
  %"s" = phi  i64 [%".8", %"entry"], [%".68", %"pop_done.endif"]
  %".14" = icmp slt i64 %"s", %".9"
  br i1 %".14", label %"s_body", label %"s_done"
s_body:
  store i64 0, i64* %"found"
  store i64 1, i64* %"depth"
  store i64 %"s", i64* %".7"
  br label %"pop_test"
s_done:
  ret void
pop_test:
  %".20" = load i64, i64* %"depth"
  %".21" = icmp sgt i64 %".20", 0
  br i1 %".21", label %"pop_body", label %"pop_done"
pop_body:
  %".23" = load i64, i64* %"depth"
  %".24" = sub nsw i64 %".23", 1
  store i64 %".24", i64* %"depth"
  %".26" = getelementptr i64, i64* %".7", i64 %".24"
  %".27" = load i64, i64* %".26"
  %".28" = getelementptr i64, i64* %".1", i64 %".27"
  %".29" = load i64, i64* %".28"
  %".30" = add nsw i64 %".27", 1
  %".31" = getelementptr i64, i64* %".1", i64 %".30"
  %".32" = load i64, i64* %".31"
  br label %"e_test"
pop_done:
  %".62" = xor i1 %".12", -1
  br i1 %".62", label %"pop_done.if", label %"pop_done.endif"
e_test:
  %"e" = phi  i64 [%".29", %"pop_body"], [%".59", %"e_body.endif"]
  %".34" = icmp slt i64 %"e", %".32"
  br i1 %".34", label %"e_body", label %"e_done"
e_body:
  %".36" = getelementptr i64, i64* %".2", i64 %"e"
  %".37" = load i64, i64* %".36"
  %".38" = getelementptr i64, i64* %".6", i64 %".37"
  %".39" = load i64, i64* %".38"
  %".40" = icmp ne i64 %".39", %"s"
  br i1 %".40", label %"e_body.if", label %"e_body.endif"
e_done:
  br label %"pop_test"
e_body.if:
  store i64 %"s", i64* %".38"
  %".43" = load i64, i64* %"found"
  br i1 %".12", label %"e_body.if.if", label %"e_body.if.endif"
e_body.endif:
  %".59" = add nsw i64 %"e", 1
  br label %"e_test"
e_body.if.if:
  %".45" = getelementptr i64, i64* %".4", i64 %"s"
  %".46" = load i64, i64* %".45"
  %".47" = add nsw i64 %".46", %".43"
  %".48" = getelementptr i64, i64* %".5", i64 %".47"
  store i64 %".37", i64* %".48"
  br label %"e_body.if.endif"
e_body.if.endif:
  %".51" = add nsw i64 %".43", 1
  store i64 %".51", i64* %"found"
  %".53" = load i64, i64* %"depth"
  %".54" = getelementptr i64, i64* %".7", i64 %".53"
  store i64 %".37", i64* %".54"
  %".56" = add nsw i64 %".53", 1
  store i64 %".56", i64* %"depth"
  br label %"e_body.endif"
pop_done.if:
  %".64" = load i64, i64* %"found"
  %".65" = getelementptr i64, i64* %".3", i64 %"s"
  store i64 %".64", i64* %".65"
  br label %"pop_done.endif"
pop_done.endif:
  %".68" = add nsw i64 %"s", 1
  br label %"s_test"
}

define void @"tlc_closure_words_v8_levels"(i64* %".1", i64* %".2", i64* %".3", i64* %".4", i64 %".5") nounwind optsize
{
entry:
  %"highest" = alloca i64
  br label %"k_test"
k_test:
  %"k" = phi  i64 [0, %"entry"], [%".35", %"e_done"]
  %".8" = icmp slt i64 %"k", %".5"
  br i1 %".8", label %"k_body", label %"k_done"
k_body:
  %".10" = getelementptr i64, i64* %".1", i64 %"k"
  %".11" = load i64, i64* %".10"
  store i64 0, i64* %"highest"
  %".13" = getelementptr i64, i64* %".2", i64 %".11"
  %".14" = load i64, i64* %".13"
  %".15" = add nsw i64 %".11", 1
  %".16" = getelementptr i64, i64* %".2", i64 %".15"
  %".17" = load i64, i64* %".16"
  br label %"e_test"
k_done:
  ret void
e_test:
  %"e" = phi  i64 [%".14", %"k_body"], [%".30", %"e_body"]
  %".19" = icmp slt i64 %"e", %".17"
  br i1 %".19", label %"e_body", label %"e_done"
e_body:
  %".21" = getelementptr i64, i64* %".3", i64 %"e"
  %".22" = load i64, i64* %".21"
  %".23" = getelementptr i64, i64* %".4", i64 %".22"
  %".24" = load i64, i64* %".23"
  %".25" = add nsw i64 %".24", 1
  %".26" = load i64, i64* %"highest"
  %".27" = icmp sgt i64 %".25", %".26"
  %".28" = select  i1 %".27", i64 %".25", i64 %".26"
  store i64 %".28", i64* %"highest"
  %".30" = add nsw i64 %"e", 1
  br label %"e_test"
e_done:
  %".32" = load i64, i64* %"highest"
  %".33" = getelementptr i64, i64* %".4", i64 %".11"
  store i64 %".32", i64* %".33"
  %".35" = add nsw i64 %"k", 1
  br label %"k_test"
}
